// A `POST /v1/responses` body (OpenAI Responses API) read into the neutral `chat_request`,
// validated with the care of the chat parser: a 400 names the exact `param`
// (`input[2].content[0]`), unknown fields are ignored, and what the proxy cannot honour is
// refused rather than dropped in silence.
//
// - `instructions` becomes a system message first; `input` is a string (one user message) or
//   items: messages (user, assistant, system, developer; text parts only — images and files are a
//   400), function and custom tool calls (consecutive calls join one assistant turn) and their
//   outputs (tool messages; an output for a call that is nowhere in the conversation is a 400).
//   Reasoning items and the history items of server-side tools (web search, MCP, …) are dropped.
// - `tools`: `function` and `custom` (free-form input, e.g. Codex's apply_patch, whose grammar is
//   kept as the tool's `format`). Every other type is ignored, never a 400 — including Codex's
//   `namespace` groups (multi_agent_v1): Codex routes a namespaced call by name *and* namespace,
//   so their functions are left out rather than offered under names Codex would not recognise.
// - `previous_response_id` replays a stored response's conversation (response_store.hpp) after
//   the instructions; an unknown or expired id is errc::previous_response_not_found.
// - `conversation` and `prompt` (server-side state this proxy does not have) are refused.
#pragma once

#include <boost/json.hpp>
#include <string_view>
#include <vector>

#include "core/api/request_fields.hpp"
#include "core/api/response_store.hpp"
#include "core/chat.hpp"
#include "core/error.hpp"

namespace zai {

// `store` may be null (nothing is stored: any previous_response_id is unknown).
result<chat_request> parse_responses_request(std::string_view body, response_store* store,
                                             double now_ms);

// The `input` items, appended to `messages` (which may already hold a replayed conversation,
// whose calls the items' outputs may answer). Used by parse_responses_request.
maybe_error read_response_input(const boost::json::array& items,
                                std::vector<chat_message>& messages);

}  // namespace zai
