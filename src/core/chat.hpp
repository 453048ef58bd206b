// The neutral chat request every client surface parses into (OpenAI chat completions, Anthropic
// Messages, OpenAI Responses) and the completion flow works from: the conversation, the tools the
// client offers, how it wants them used, thinking, streaming and the sampling limits. Nothing
// here knows a wire format; each surface's parser fills it and validates what its API requires.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zai {

enum class message_role { system, developer, user, assistant, tool };

std::string_view role_name(message_role role);

// How a tool takes its input: a JSON object described by a JSON Schema (OpenAI functions,
// Anthropic tools), or one free-form string (the Responses API's `custom` tools, such as Codex's
// apply_patch).
enum class tool_kind { function, custom };

// A tool the client offers the model.
struct tool_definition {
  std::string name;
  std::string description;
  std::string parameters;  // function: the JSON Schema as compact JSON text ("{}" when none)
  tool_kind kind = tool_kind::function;
  std::string format;      // custom: the input's grammar or format, as the client described it
};

// A call the assistant made: in the history (as the client sent it back) or in an answer.
struct tool_call {
  std::string id;         // the client's id (call_…, toolu_…); answers: the surface's prefix + random
  std::string name;
  std::string arguments;  // function: a JSON object as text; custom: the raw input string
  tool_kind kind = tool_kind::function;
};

struct chat_message {
  message_role role = message_role::user;
  // The message's text: a string content as it is, text parts joined with "\n".
  std::string text;
  std::string name;          // the optional participant name
  std::string tool_call_id;  // tool messages: the call this result answers
  std::string tool_name;     // tool messages: the called tool, when the surface knows it
  bool is_error = false;     // tool messages: the tool reported a failure (Anthropic is_error)
  std::vector<tool_call> tool_calls;  // assistant messages
  // Replayed reasoning (reasoning_content, thinking blocks, reasoning items) is accepted by the
  // parsers and dropped: the upstream must not see earlier reasoning as part of the answer.
};

// How the client wants tools used (OpenAI tool_choice, Anthropic tool_choice).
// The OpenAI Responses API's own request state, carried from its parser to its encoder
// (api/openai_responses*): the flow passes it through untouched; other surfaces leave it empty.
struct responses_state {
  bool store = false;  // keep the finished response for GET and a later previous_response_id
  // messages[0] came from `instructions`, which a later previous_response_id does not inherit.
  bool instructions_first = false;
  // The request fields the response object repeats (instructions, tools, tool_choice, reasoning,
  // text, …) as JSON object members without braces: "instructions":null,"tools":[…],…
  std::string echo;
};

enum class tool_choice_mode {
  automatic,  // the model decides ("auto"; the default when tools are given)
  none,       // no tool may be called: the tools are not shown to the model
  required,   // at least one call ("required", Anthropic "any")
  named,      // exactly this tool (`tool_choice_name`)
};

struct chat_request {
  std::string model;
  std::vector<chat_message> messages;  // never empty
  std::vector<tool_definition> tools;  // client tools only; server tools are dropped by the parser
  tool_choice_mode tool_choice = tool_choice_mode::automatic;
  std::string tool_choice_name;   // tool_choice_mode::named
  bool parallel_tool_calls = true;
  // The tools came as OpenAI's legacy `functions`: the answer's call is then a `function_call`
  // (one at most), as clients of that API read it.
  bool legacy_functions = false;
  bool stream = false;
  bool include_usage = false;  // OpenAI stream_options.include_usage
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::int64_t> max_tokens;  // max_completion_tokens, max_tokens, max_output_tokens
  std::vector<std::string> stop;           // stop sequences; a single string becomes one element
  std::string user;
  // The client's thinking choice; nullopt leaves it to the model's default.
  std::optional<bool> enable_thinking;
  std::string reasoning_effort;  // as given, after validation; empty when absent
  // An answer format the client asked for (Responses text.format json_schema): a JSON Schema as
  // text, put to the model as an instruction. Empty: none. Not enforced.
  std::string answer_schema;
  responses_state responses;
};

}  // namespace zai
