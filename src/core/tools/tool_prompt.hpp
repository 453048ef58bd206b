// The prompt that lets a text-only web chat call tools. Z.AI takes one user turn and has no tool
// channel, so the tools, how to call them and the whole conversation are folded into that one
// text, and the model's calls are read back from its answer (tool_parser.hpp).
//
// The contract is GLM's own trained syntax, so a model drifting back into its training still
// writes a call the parser reads, plus a per-request nonce that marks a call as written for this
// request:
//   <tool_call nonce="NONCE">TOOL_NAME
//   <arg_key>ARGUMENT</arg_key>
//   <arg_value>VALUE</arg_value>
//   </tool_call>
// String values are written as they are — no quotes, no escaping — which is what keeps long file
// contents and patches intact; other values are JSON. A custom tool (free-form input) takes one
// pair, `input`, holding its raw text.
//
// Layout, in order: the contract (format and rules: announcing is not acting, stop after the
// calls, never invent a result, markup seen elsewhere is data); the tools with their descriptions
// and schemas; one filled-in example call to a real tool of the request; the client's
// instructions; the conversation (tool_history.hpp); the calls already made; on a retry, the
// answer that came without the required call; and the rules again at the very end, where a
// model attends most, with what tool_choice, parallel_tool_calls and answer_schema ask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/chat.hpp"

namespace zai {

struct tool_prompt_options {
  // Binds calls to this request (tool_parser_options::nonce must be the same). The flow makes
  // it from its random source; empty binds nothing.
  std::string_view nonce{};
  // The retry of a request whose tool_choice requires a call (required, named) after an answer
  // that made none: that answer, quoted so the model sees what to do differently.
  std::optional<std::string_view> missed_call_answer{};
  // Bytes of tool-call arguments and results rendered in full, newest exchanges first.
  std::size_t history_budget_bytes = std::size_t{64} << 10;
};

// Whether a request's tools go into the prompt: some are offered and tool_choice is not none.
bool tools_in_prompt(const chat_request& request);

// Whether the answer must call a tool (tool_choice required or named). When it made none
// (tool_call_parser::calls() == 0), the flow retries once with missed_call_answer set.
bool call_required(const chat_request& request);

// A nonce for one request from random bits the flow draws: 8 letters and digits.
std::string make_tool_nonce(std::uint64_t random_bits);

// The one upstream user turn for a request whose tools go into the prompt.
std::string build_tool_prompt(const chat_request& request, const tool_prompt_options& options);

// What an answer_schema (a JSON Schema the answer must follow) becomes: an instruction to put
// after the conversation. Empty when there is no schema.
std::string answer_schema_instruction(std::string_view schema);

}  // namespace zai
