// The neutral answer: what the completion flow tells a client surface, whatever the surface's wire
// format. A streamed answer is a sequence of events (reasoning text, answer text, tool calls
// opened, their argument fragments and their ends, then one finish with the usage, or one error);
// a whole answer is the same collected. Each surface has one encoder from these to its bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"
#include "core/error.hpp"
#include "core/zai/event.hpp"

namespace zai {

enum class finish_reason {
  stop,            // the model ended its answer
  length,          // the token limit cut it
  content_filter,  // the upstream withdrew it
  tool_calls,      // it ended with one or more tool calls
};

std::string_view finish_reason_name(finish_reason reason);  // OpenAI's spelling

struct answer_event {
  enum class kind {
    reasoning,            // text: more reasoning
    content,              // text: more answer text
    tool_call_start,      // index, id, name, tool: a call begins (its arguments follow)
    tool_call_arguments,  // index, text: the next fragment of the call's arguments
    tool_call_end,        // index: the call's arguments are complete
    finished,             // finish, usage: the answer is complete; nothing follows
    error,                // error: the answer failed; nothing follows
  } what = kind::content;
  std::string text{};
  std::size_t index = 0;  // tool calls: 0, 1, … in the order they begin
  std::string id{};       // tool_call_start: the call's id, with the surface's prefix
  std::string name{};     // tool_call_start: a declared tool's name
  tool_kind tool = tool_kind::function;
  finish_reason finish = finish_reason::stop;
  token_usage usage{};  // finished: the upstream's counts, or an estimate (present = false)
  api_error error{};
};

// A whole answer, for non-streamed responses.
struct answer {
  std::string reasoning;
  std::string content;
  std::vector<tool_call> tool_calls;
  finish_reason finish = finish_reason::stop;
  token_usage usage;
};

// When the upstream reports no usage: a rough count (about four bytes per token) so clients that
// require the field still get plausible numbers.
token_usage estimate_usage(std::size_t prompt_bytes, std::size_t completion_bytes);

// What every encoder of one completion shares: the response id (with the surface's prefix), its
// creation time, the model id the client asked for, and the prompt's token estimate (Anthropic's
// message_start carries input_tokens before any upstream usage exists).
struct completion_meta {
  std::string id;
  std::int64_t created = 0;  // seconds since the epoch
  std::string model;
  std::uint64_t prompt_tokens = 0;
};

}  // namespace zai
