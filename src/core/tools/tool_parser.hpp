// The answer's text in, tool calls out. The model is told to call tools in markup (the prompt's
// contract, tool_prompt.hpp); this parser reads the answer as it grows, passes through at once
// every piece of text that cannot begin a call, and turns calls into answer events: a call's
// start as soon as its tool is known and its arguments begin (the first `<arg_key>`, or its
// closing tag: seeing that much is what tells a call from markup that merely names a tool),
// its arguments as they arrive, its end.
//
// What it understands, besides the contract (which is GLM's own trained syntax plus a nonce):
//   - GLM's trained syntax without the nonce: `<tool_call>NAME` newline, then pairs
//     `<arg_key>K</arg_key>` `<arg_value>V</arg_value>`, then `</tool_call>`;
//   - a call written as JSON inside the markup,
//   `<tool_call>{"name":…,"arguments":{…}}</tool_call>`,
//     or after the name, `<tool_call>NAME {…}</tool_call>`;
//   - a fenced JSON call (```json {"name":…,"arguments":{…}} ```) that ends the answer;
//   - marker drift (tool_markup.hpp), re-spelt tool names (tool_names.hpp), loose JSON
//     (loose_json.hpp), values of the wrong type (tool_arguments.hpp).
//
// What is never a call, and comes out as text:
//   - markup carrying another nonce than this request's: it was copied from somewhere (a file
//     the agent read, a tool result, an earlier conversation), not written for this request;
//   - markup inside a code fence or an inline code span, unless it carries this request's nonce:
//     the model is showing markup, not calling;
//   - a call to a tool that is not declared (or not the one `tool_choice` names), and JSON that
//     is not a call object, or whose arguments are not an object even after repair;
//   - bare JSON in prose, and a fenced JSON call that visible text follows (an example).
// Markup without a nonce is accepted outside code: drifting into the trained syntax, which has no
// place for one, is the commonest way a model calls a tool at all.
//
// When calls are not allowed (tool_choice none, no tools, or a call after the first when
// parallel calls are off), call markup is recognised the same way and removed from the answer.
// Once a call has been returned, later text is dropped: an answer's text after its calls is at
// best noise and usually the model inventing the tool's result, which would then sit in the
// client's history as if it were true. Whitespace that only separates text from a call is not
// part of the answer either; whitespace is therefore held until the next visible character shows
// whether a call follows (the one hold-back that is not a possible call's beginning).
//
// Arguments. GLM pairs stream: `{` and the key when a value begins, a string value's text as it
// arrives (escaped), a typed value (number, boolean, object, array — per the schema) when its
// `</arg_value>` arrives, `}` at the end; the fragments always concatenate to one valid JSON
// object. A call written as JSON is held to its end, because only the whole text can be repaired
// and typed; its start and its arguments then come together in one piece. Custom tools
// (tool_kind::custom) take one raw string: the only pair's value, the text between the name line
// and `</tool_call>`, or a JSON call's string `input`; their fragments concatenate to it.
//
// Input: the answer text only, never reasoning (the flow passes reasoning through; markup in
// reasoning is thinking about a call, not a call). Feed the stream translator's content deltas,
// which are append-only: the translator holds its last 24 characters back until no upstream
// edit can rewrite them, so nothing this parser has seen is taken back. A non-streamed answer is
// the translator's final text, which reflects every edit, fed in one piece. The text must be
// valid UTF-8 as a whole (the translator's is); a piece may end inside a character.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/answer.hpp"
#include "core/chat.hpp"
#include "core/tools/tool_arguments.hpp"
#include "core/tools/tool_markup.hpp"

namespace zai {

// What the parser needs to know of the request; `tool_call_parser` fills it from one.
struct tool_parser_options {
  std::vector<tool_definition> tools;  // empty: no call can be returned
  tool_choice_mode choice = tool_choice_mode::automatic;
  std::string named_tool;  // tool_choice_mode::named: the one tool allowed
  bool parallel = true;    // false: only the first call is returned
  std::string nonce;       // this request's; empty: any nonce is accepted
};

class tool_call_parser {
 public:
  explicit tool_call_parser(const chat_request& request, std::string nonce);
  explicit tool_call_parser(tool_parser_options options);

  // Answer text as it grows. Appends content (text that cannot begin a call, at once),
  // tool_call_start (index, name, tool kind; `id` left empty for the flow to fill with the
  // surface's prefix), tool_call_arguments fragments and tool_call_end. Never finished or error.
  void feed(std::string_view text, std::vector<answer_event>& out);

  // The end of the answer: releases held text, and closes a call still open (or returns it as
  // text when not even its tool was known).
  void finish(std::vector<answer_event>& out);

  std::size_t calls() const { return calls_; }  // tool calls returned so far

 private:
  enum class state {
    prose,        // answer text: emitted unless it may begin a call
    fence_open,   // a code fence's first line, held until its content shows what it holds
    quoted_code,  // inside a code fence that holds no call: nothing here is a call
    fenced_json,  // a fence whose content began with '{': held until it closes
    fenced_call,  // a fenced JSON call, held until the answer shows nothing visible follows
    call_name,    // after a call's opening tag: the tool's name
    call_body,    // inside a call, around its argument pairs
    arg_key,      // inside <arg_key>
    arg_value,    // inside <arg_value>
    json_body,    // a call (or its arguments) written as JSON, held to its end
    call_tail,    // after a JSON body: its closing tag, if any
    raw_input,    // a custom tool's raw input, up to the closing tag
  };
  enum class value_mode {
    text_pending,  // a string value before its first character: written in quotes, it is typed
    text,          // a string value, streamed
    typed,         // held to its end, then read as the schema's type
    raw,           // a custom tool's input, streamed as it is
    skip,          // dropped (a repeated key, a removed call)
  };

  // The call being read.
  struct open_call {
    std::optional<std::size_t> tool;  // in options_.tools; nullopt until the name is known
    bool emitting = true;             // false: markup being removed, not returned
    bool started = false;             // tool_call_start was emitted
    bool name_in_json = false;        // json_body: the whole call is JSON, name included
    bool in_fence = false;            // it sits inside a code fence (it carried the nonce)
    std::string written_name;         // a name="…" attribute on the opening tag
    std::size_t pairs = 0;            // arguments written so far
    std::vector<std::string> keys;
    std::string key;
    value_mode mode = value_mode::skip;
    std::string typed;  // a typed value's text, until it is complete
    // json_body: how far the JSON has been scanned, and the scanner's position in it.
    std::size_t scanned = 0;
    int depth = 0;
    bool in_string = false, escaped = false;
  };

  // A call read from JSON: which tool, and its arguments as the client receives them.
  struct resolved_call {
    std::size_t tool = 0;
    std::string arguments;
  };

  bool step(bool at_end, std::vector<answer_event>& out);
  // The markup tag at pending_[at], if it is one of `wanted`.
  tools::tag_match tag_at(std::size_t at, tools::tag_set wanted, bool at_end) const;
  // tool_parser.cpp: the answer's prose and code fences.
  bool step_prose(bool at_end, std::vector<answer_event>& out);
  bool step_quoted_code(bool at_end, std::vector<answer_event>& out);
  bool step_fence_open(bool at_end, std::vector<answer_event>& out);
  bool step_fenced_json(bool at_end, std::vector<answer_event>& out);
  bool step_fenced_call(bool at_end, std::vector<answer_event>& out);
  bool open_fence(std::size_t line_begin, std::size_t marker, bool at_end,
                  std::vector<answer_event>& out);
  void open_call_at(std::size_t held_from, std::size_t at, const tools::tag_match& tag,
                    bool in_fence, std::vector<answer_event>& out);
  bool hold_from(std::size_t count, std::vector<answer_event>& out);
  void emit_prose(std::string_view text, std::vector<answer_event>& out);
  void release_held(std::vector<answer_event>& out);
  // tool_parser_call.cpp: inside a call.
  bool step_call_name(bool at_end, std::vector<answer_event>& out);
  bool step_call_body(bool at_end, std::vector<answer_event>& out);
  bool step_arg_key(bool at_end, std::vector<answer_event>& out);
  bool step_arg_value(bool at_end, std::vector<answer_event>& out);
  bool step_json_body(bool at_end, std::vector<answer_event>& out);
  bool step_call_tail(bool at_end, std::vector<answer_event>& out);
  bool step_raw_input(bool at_end, std::vector<answer_event>& out);
  bool accept_name(std::string_view written);
  void reject_call(std::vector<answer_event>& out);
  void start_call(std::vector<answer_event>& out);
  void begin_value();
  void emit_value_text(std::string_view text, std::vector<answer_event>& out);
  void end_value(std::vector<answer_event>& out);
  void end_call(std::vector<answer_event>& out);
  void finish_json(std::size_t end, std::vector<answer_event>& out);
  void emit_whole_call(std::size_t tool, std::string_view arguments,
                       std::vector<answer_event>& out);
  std::optional<std::vector<resolved_call>> resolve_json_calls(const boost::json::value& v) const;
  void emit_resolved(const std::vector<resolved_call>& calls, std::vector<answer_event>& out);
  void emit_arguments(std::string_view text, std::vector<answer_event>& out);
  bool is_custom() const;
  std::optional<std::size_t> callable_tool(std::string_view written) const;
  std::optional<std::string> arguments_for(std::size_t tool, boost::json::value v) const;
  bool can_call() const;

  tool_parser_options options_;
  std::vector<tools::tool_schema> schemas_;  // one per tool, in options_.tools order
  state state_ = state::prose;
  std::string pending_;  // text received and not yet decided
  std::string held_;     // text of a possible call, returned as text if it turns out not to be
  open_call call_;
  std::vector<resolved_call> fenced_;  // a fenced JSON call waiting for the answer to end
  std::size_t calls_ = 0;
  std::size_t feed_begin_ = 0;  // where this feed's events begin in `out` (content is merged)
  // Prose position: at a line's start (only indentation so far), the line's backtick count,
  // and the code fence being quoted.
  bool line_start_ = true;
  unsigned line_ticks_ = 0;
  char fence_char_ = '`';
  std::size_t fence_length_ = 0;
  std::optional<tools::json_call_head> fence_head_;  // fenced_json: what its first member said
};

}  // namespace zai
