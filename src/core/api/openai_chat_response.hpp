// The OpenAI side of a completion: `chat.completion.chunk` SSE events for streams (role first,
// reasoning as `reasoning_content` or inside <think> tags, content, one finish chunk, the usage
// chunk only when asked for, [DONE]) and the single `chat.completion` object for non-streams.
// One id and one `created` per completion; every chunk is written straight into a string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/answer.hpp"
#include "core/stream/stream_translator.hpp"

namespace zai {

class chunk_writer {
 public:
  // `legacy_functions`: calls go out as the legacy `function_call` delta, finishing with
  // "function_call", as clients that sent `functions` read them.
  chunk_writer(const completion_meta& meta, bool think_tags, bool include_usage,
               bool legacy_functions = false);

  // Each call appends zero or more complete `data: …\n\n` events to `out`.
  void reasoning(std::string_view text, std::string& out);
  void content(std::string_view text, std::string& out);
  // A tool call's first delta (index, id, type, function.name, arguments "") and its argument
  // fragments, as OpenAI streams them. A custom tool's call is `custom` with an `input` string.
  void tool_call_start(std::size_t index, std::string_view id, std::string_view name,
                       tool_kind kind, std::string& out);
  void tool_call_arguments(std::size_t index, std::string_view fragment, tool_kind kind,
                           std::string& out);
  void finish(finish_reason reason, std::string& out);
  void usage(const token_usage& usage, std::string& out);  // a no-op unless include_usage
  void done(std::string& out);
  static void error(std::string_view error_json, std::string& out);

  bool started() const { return role_sent_; }

 private:
  enum class section { none, reasoning, content };

  void delta(std::string_view field, std::string_view text, std::string& out);
  void leave_reasoning(std::string& out);
  void open(std::string& out);
  void close(std::string& out);

  std::string prefix_;  // {"id":…,"object":…,"created":…,"model":…,
  bool think_tags_;
  bool include_usage_;
  bool legacy_functions_;
  bool role_sent_ = false;
  section section_ = section::none;
};

void append_usage_json(std::string& out, const token_usage& usage);

// The whole non-stream answer. With tool calls and no text, `content` is null; with
// `legacy_functions` the first call is the message's `function_call`.
std::string completion_body(const completion_meta& meta, const answer& a, bool think_tags,
                            bool legacy_functions = false);


}  // namespace zai
