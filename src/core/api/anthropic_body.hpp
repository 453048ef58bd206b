// The pieces the Messages parser (anthropic_messages_request.cpp) is made of: where a value sits
// in the body, errors worded as Anthropic words them, typed readers for one member, and the
// conversation reader (anthropic_conversation.cpp). Errors say `<path>: <what>` with the path in
// Anthropic's dotted form (messages.0.content.1), while `param` keeps the bracket form the OpenAI
// surface uses (messages[0].content[1]). Internal to core/api/anthropic_*.cpp.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"
#include "core/error.hpp"

namespace zai::anthropic {

using maybe_error = std::optional<api_error>;

// Where a value sits in the body: place{"messages"}[2] / "content" is messages[2].content.
struct place {
  std::string param;

  place operator/(std::string_view key) const {
    return {param.empty() ? std::string(key) : param + "." + std::string(key)};
  }
  place operator[](std::size_t i) const { return {param + "[" + std::to_string(i) + "]"}; }
};

api_error refuse(const place& at, std::string_view why);  // errc::invalid_request
api_error missing(const place& at);                       // "Field required"
api_error unknown_tag(const place& at, std::string_view tag, std::string_view expected);

// An optional member: nullptr when absent or JSON null (Anthropic treats both as not given).
const boost::json::value* member(const boost::json::object& o, std::string_view key);

result<const boost::json::object*> as_object(const boost::json::value& v, const place& at);

// An object that names its kind in `type`: a content block, `thinking`, `tool_choice`.
struct tagged {
  const boost::json::object* fields;
  std::string_view type;
};
result<tagged> as_tagged(const boost::json::value& v, const place& at);
result<const boost::json::array*> as_list(const boost::json::value& v, const place& at);
// A required string member.
result<std::string_view> text_member(const boost::json::object& o, std::string_view key,
                                     const place& at);
// Optional members: absent or null leaves `out` as it is.
maybe_error read_flag(const boost::json::object& o, std::string_view key, const place& at,
                      bool& out);
maybe_error read_fraction(const boost::json::object& o, std::string_view key,
                          std::optional<double>& out);  // a top-level number from 0 to 1
// A whole number of at least `min`; nullopt when absent.
result<std::optional<std::int64_t>> count_member(const boost::json::object& o,
                                                 std::string_view key, const place& at,
                                                 std::int64_t min);

// Joins text parts with "\n", as chat_message::text holds them; empty parts add nothing.
void append_line(std::string& text, std::string_view more);

// What reading `messages` produces besides the chat messages: the names of deferred tools that a
// tool_result's `tool_reference` block loaded (Claude Code's ToolSearch).
struct conversation {
  std::vector<chat_message>& messages;  // appended to, after any system message
  std::vector<std::string>& loaded_tools;
};

// `messages` as Anthropic validates it, one chat_message per turn except that a user turn's
// tool_result blocks become tool messages between its texts.
maybe_error read_conversation(const boost::json::value& messages, conversation out);

}  // namespace zai::anthropic
