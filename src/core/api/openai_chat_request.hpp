// The client's side of the product: a `POST /v1/chat/completions` body read into a typed
// `chat_request`, validated the way OpenAI validates it. Anything wrong is a 400 whose `param`
// names the exact field (`messages[2].content[0].text`), so a client can see what to fix. Fields
// the proxy does not use are ignored, as OpenAI-compatible servers do; fields it cannot honour
// (image inputs, n > 1) are refused rather than silently dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace zai {

enum class message_role { system, developer, user, assistant, tool };

std::string_view role_name(message_role role);

// A function call the assistant made earlier in the conversation (history only).
struct tool_call {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as the client sent it
};

struct chat_message {
  message_role role = message_role::user;
  // A string content as it is; a content-part array's text (and refusal) parts joined with "\n".
  std::string text;
  std::string name;          // the optional participant name
  std::string tool_call_id;  // tool messages: the call this result answers
  std::vector<tool_call> tool_calls;
  // Incoming assistant `reasoning_content` / `reasoning` are accepted and dropped: the upstream
  // must not see earlier reasoning as if it were part of the answer.
};

struct chat_request {
  std::string model;
  std::vector<chat_message> messages;  // never empty
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::int64_t> max_tokens;  // max_completion_tokens, else max_tokens
  std::vector<std::string> stop;           // a single string becomes one element
  std::string user;
  // The client's thinking choice; nullopt leaves it to the model's default. Precedence:
  // `thinking.type` ("enabled"/"disabled") > `enable_thinking` >
  // `chat_template_kwargs.enable_thinking` > `reasoning_effort` ("none" = off, any other = on).
  std::optional<bool> enable_thinking;
  std::string reasoning_effort;  // as given, after validation; empty when absent
  // `tools` are accepted so agent clients can connect, but emulated tool calling is not built:
  // the model sees no tool definitions and answers in text. The server may log this flag.
  bool has_tools = false;
};

// errc::invalid_json when the body is not JSON (or not UTF-8); errc::invalid_request, with
// `param`, for everything else.
result<chat_request> parse_chat_request(std::string_view body);

}  // namespace zai
