#include "core/tools/tool_history.hpp"

#include <algorithm>
#include <vector>

#include "core/tools/loose_json.hpp"
#include "core/tools/tool_parser_text.hpp"

namespace zai::tools {
namespace {

// A shortened exchange keeps this much of each result and of each call's arguments.
constexpr std::size_t shortened_result_bytes = 300;
constexpr std::size_t shortened_arguments_bytes = 200;
constexpr std::size_t listed_calls = 40;

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(text::spaces);
  if (first == text::npos) return {};
  return s.substr(first, s.find_last_not_of(text::spaces) - first + 1);
}

// The first `limit` bytes of `s`, cut on a character boundary, with how much was left out.
std::string shortened(std::string_view s, std::size_t limit) {
  if (s.size() <= limit) return std::string(s);
  const std::size_t cut = text::complete_utf8_prefix(s.substr(0, limit));
  return std::string(s.substr(0, cut)) + "… [" + std::to_string(s.size() - cut) +
         " more bytes not shown]";
}

std::string attribute(std::string_view name, std::string_view value) {
  std::string out(" ");
  out.append(name).append("=\"");
  for (char c : value) out += c == '"' ? '\'' : c;
  return out + "\"";
}

std::string pair(std::string_view key, std::string_view value) {
  return "<arg_key>" + std::string(key) + "</arg_key>\n<arg_value>" + std::string(value) +
         "</arg_value>\n";
}

// Whether message `i` belongs to a tool exchange: an assistant turn that called tools, or a
// result.
bool in_exchange(const chat_message& m) {
  return m.role == message_role::tool || !m.tool_calls.empty();
}

std::size_t exchange_bytes(const chat_message& m) {
  std::size_t bytes = m.role == message_role::tool ? m.text.size() : 0;
  for (const tool_call& c : m.tool_calls) bytes += c.arguments.size();
  return bytes;
}

// For each message, whether it is rendered in full: the newest exchanges that fit the budget
// (and always the newest one), every message that is no part of an exchange.
std::vector<bool> rendered_in_full(const std::vector<chat_message>& messages, std::size_t budget) {
  std::vector<bool> full(messages.size(), true);
  std::size_t spent = 0;
  bool newest = true;
  for (std::size_t i = messages.size(); i-- > 0;) {
    if (!in_exchange(messages[i])) continue;
    spent += exchange_bytes(messages[i]);
    // An exchange ends (going back in time) at the assistant turn that made its calls.
    full[i] = newest || spent <= budget;
    if (!messages[i].tool_calls.empty()) newest = false;
  }
  return full;
}

std::string render_shortened_call(const tool_call& call) {
  return "[earlier call, shortened: " + call.name + " " +
         shortened(trim(call.arguments), shortened_arguments_bytes) + "]\n";
}

std::string render_assistant(const chat_message& m, std::string_view nonce, bool full) {
  std::string body(trim(m.text));
  if (!body.empty()) body += '\n';
  for (const tool_call& call : m.tool_calls) {
    body += full ? render_call(call, nonce) : render_shortened_call(call);
  }
  return "<assistant>\n" + body + "</assistant>\n";
}

std::string render_result(const chat_message& m, bool full) {
  std::string open = "<tool_result";
  if (!m.tool_call_id.empty()) open += attribute("call_id", m.tool_call_id);
  if (!m.tool_name.empty()) open += attribute("name", m.tool_name);
  if (m.is_error) open += attribute("status", "error");
  if (!full) open += attribute("shortened", "true");
  const std::string_view text = trim(m.text);
  return open + ">\n" + (full ? std::string(text) : shortened(text, shortened_result_bytes)) +
         "\n</tool_result>\n";
}

std::string render_user(const chat_message& m) {
  const std::string open = m.name.empty() ? "<user>" : "<user" + attribute("name", m.name) + ">";
  return open + "\n" + std::string(trim(m.text)) + "\n</user>\n";
}

}  // namespace

std::string render_call(const tool_call& call, std::string_view nonce) {
  std::string out = "<tool_call";
  if (!nonce.empty()) out += attribute("nonce", nonce);
  out += ">" + call.name + "\n";
  if (call.kind == tool_kind::custom) return out + pair("input", call.arguments) + "</tool_call>\n";
  const std::optional<boost::json::value> args = read_loose_json(call.arguments);
  const boost::json::object* members = args ? args->if_object() : nullptr;
  if (members == nullptr && !trim(call.arguments).empty()) {
    out += pair("arguments", call.arguments);  // not an object: shown as the client sent it
  }
  for (const auto& member : members ? *members : boost::json::object{}) {
    const boost::json::value& v = member.value();
    out +=
        pair(member.key(), v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v));
  }
  return out + "</tool_call>\n";
}

std::string render_instructions(const chat_request& request) {
  std::string out;
  for (const chat_message& m : request.messages) {
    const bool instruction = m.role == message_role::system || m.role == message_role::developer;
    const std::string_view text = trim(m.text);
    if (!instruction || text.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += text;
  }
  return out;
}

std::string render_turns(const chat_request& request, std::string_view nonce,
                         std::size_t budget_bytes) {
  const std::vector<bool> full = rendered_in_full(request.messages, budget_bytes);
  std::string out;
  for (std::size_t i = 0; i < request.messages.size(); ++i) {
    const chat_message& m = request.messages[i];
    switch (m.role) {
      case message_role::system:
      case message_role::developer: break;
      case message_role::user:
        if (!trim(m.text).empty()) out += render_user(m);
        break;
      case message_role::assistant:
        if (!trim(m.text).empty() || !m.tool_calls.empty()) {
          out += render_assistant(m, nonce, full[i]);
        }
        break;
      case message_role::tool: out += render_result(m, full[i]); break;
    }
  }
  return out;
}

std::string render_already_called(const chat_request& request) {
  std::vector<std::string> calls;
  for (const chat_message& m : request.messages) {
    for (const tool_call& c : m.tool_calls) {
      std::string line =
          "- " + c.name + " " + shortened(trim(c.arguments), shortened_arguments_bytes);
      std::erase(calls, line);  // listed once, where it was last made
      calls.push_back(std::move(line));
    }
  }
  const std::size_t first = calls.size() > listed_calls ? calls.size() - listed_calls : 0;
  std::string out;
  for (std::size_t i = first; i < calls.size(); ++i) out += calls[i] + "\n";
  return out;
}

}  // namespace zai::tools
