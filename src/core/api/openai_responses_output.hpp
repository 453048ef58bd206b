// What an OpenAI Responses API response says, shared by its stream events, its whole body, the
// store and GET: the output items (reasoning, message, function and custom tool calls) and the
// `response` object around them, written straight into a string. The object mirrors the real
// API's fields closely enough for the openai SDKs' types and Codex's parser (see
// ../shared/docs/agent-surfaces.md §3): `output_text` is included as the SDKs derive it, and the
// request fields it repeats come from the parser (chat_request::responses.echo).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/answer.hpp"
#include "core/api/response_store.hpp"
#include "core/chat.hpp"
#include "core/error.hpp"

namespace zai {

// One item of a response's `output`.
struct output_item {
  enum class kind { reasoning, message, function_call, custom_tool_call };
  kind what = kind::message;
  std::string id;       // rs_…, msg_…, fc_…, ctc_…: output_item_id()
  std::string call_id;  // calls: the id the client answers with function_call_output
  std::string name;     // calls
  std::string text;     // the reasoning summary, the message text, the arguments or the input
  std::string_view status = "completed";  // "in_progress", "completed" or "incomplete"
};

// An id derived from the response id and an item's place in `output`, unique within and across
// responses without another random source: ("msg_", resp_X, 1) → msg_X_1. Items use
// item_id_prefix(); a call that came without an id gets "call_".
std::string output_item_id(std::string_view prefix, std::string_view response_id,
                           std::size_t output_index);
std::string_view item_id_prefix(output_item::kind what);  // rs_, msg_, fc_, ctc_

void append_output_item(std::string& out, const output_item& item);

// `,"key":"text"`: one more string member of the object being written.
void append_string_member(std::string& out, std::string_view key, std::string_view text);

// How a response ended, or that it has not yet.
struct response_outcome {
  std::string_view status = "in_progress";  // in_progress, completed, incomplete, failed
  std::string_view incomplete_reason;       // incomplete: max_output_tokens or content_filter
  const api_error* error = nullptr;          // failed
  const token_usage* usage = nullptr;        // ended: the counts, else "usage":null
  std::uint64_t reasoning_tokens = 0;
};

// The outcome of a finished answer: completed, or incomplete when the token limit cut it or the
// upstream withdrew it.
response_outcome finished_outcome(finish_reason finish, const token_usage& usage,
                                  std::string_view reasoning);

void append_response_object(std::string& out, const completion_meta& meta,
                            const chat_request& request, std::span<const output_item> output,
                            const response_outcome& outcome);

// The `error` of a failed response: a code Codex acts on (rate_limit_exceeded, whose message
// carries "Please try again in N s" for Codex's retry delay; server_error; invalid_prompt).
std::string_view failure_code(const api_error& e);
std::string failure_message(const api_error& e);

// The assistant turn the output amounts to (its text and calls; reasoning is not replayed), as a
// later previous_response_id replays it. Empty text and no calls: nothing to replay.
chat_message answer_turn(std::span<const output_item> output);

// What the store keeps of a finished response: its object as GET returns it (`body`), and the
// request's conversation without `instructions` (a continuation sends its own) then the answer.
stored_response stored_form(const completion_meta& meta, const chat_request& request,
                            std::span<const output_item> output, std::string body);

}  // namespace zai
