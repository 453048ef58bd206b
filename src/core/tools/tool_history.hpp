// The conversation so far, folded into the tool prompt (tool_prompt.hpp). Z.AI takes one user
// turn, so every earlier turn becomes a tagged block inside it: the client's instructions, user
// turns, assistant turns whose calls are re-rendered in the contract's own format (so the model
// copies a good example, never a client's or another model's format), and tool results in
// `<tool_result call_id=… name=…>` blocks. Exchanges older than a size budget are shortened, and
// the calls already made are listed, because long agent sessions otherwise loop on the same call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/chat.hpp"

namespace zai::tools {

// One call in the contract's format, bound to `nonce` (no nonce attribute when it is empty).
// Function arguments become `<arg_key>`/`<arg_value>` pairs, string values as plain text and
// the rest as JSON; a custom tool's raw input is the one pair `input`.
std::string render_call(const tool_call& call, std::string_view nonce);

// The system and developer messages, in order, one per paragraph; empty when there are none.
std::string render_instructions(const chat_request& request);

// The turns (everything but instructions) as `<user>`, `<assistant>` and `<tool_result>` blocks.
// Tool exchanges are rendered in full from the newest back while their calls' arguments and
// results fit in `budget_bytes`; older ones are shortened. The newest exchange is always full.
std::string render_turns(const chat_request& request, std::string_view nonce,
                         std::size_t budget_bytes);

// The calls earlier turns made, each once (name and arguments, long arguments cut), newest
// last; empty when there were none.
std::string render_already_called(const chat_request& request);

}  // namespace zai::tools
