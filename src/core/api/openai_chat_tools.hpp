// The tool half of a `POST /v1/chat/completions` body, read into the neutral request
// (chat.hpp): the tools offered (`tools`, or the legacy `functions`), how they may be used
// (`tool_choice` / `function_call`, `parallel_tool_calls`), the calls earlier assistant turns made
// and the `role: "tool"` results bound to them by `tool_call_id`. Validated as OpenAI validates
// it: a named tool that is not offered, or a result for a call nobody made, is a 400 naming the
// `param`. Tool types the proxy cannot offer a model (OpenAI's hosted tools) are ignored.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "core/chat.hpp"
#include "core/error.hpp"

namespace zai {

// `tools`, `functions`, `tool_choice`, `function_call` and `parallel_tool_calls` of `body`.
std::optional<api_error> read_openai_tools(const boost::json::object& body, chat_request& out);

// An assistant message's `tool_calls` (and the legacy `function_call`); `at` is its param.
std::optional<api_error> read_openai_tool_calls(const boost::json::object& message,
                                                const std::string& at, chat_message& out);

// Binds each tool result to the call it answers: fills `tool_name` from the matching call of an
// earlier assistant message. An id no earlier call carries is a 400 on its `tool_call_id`.
std::optional<api_error> bind_tool_results(chat_request& out);

}  // namespace zai
