// The response half of the proxy's story: Z.AI SSE bytes in, OpenAI-side deltas out. Fed the
// upstream body in arbitrary pieces, it decodes events, keeps the message text exactly as the web
// frontend does (edits counted in UTF-16), derives reasoning and answer from its markup, and emits
// only text that is new and certain — holding back a short tail that a later edit may still
// rewrite — followed by usage and a finish, or by one error. An explicit state machine; pure, so
// the native server and the wasm Worker share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/answer.hpp"
#include "core/stream/message_text.hpp"
#include "core/stream/message_view.hpp"
#include "core/stream/sse_decoder.hpp"
#include "core/zai/event.hpp"

namespace zai {

struct stream_output {  // one translated item, in order
  enum class kind {
    reasoning,  // text: new reasoning (reasoning_content / <think>)
    content,    // text: new answer text
    usage,      // usage: the upstream's counts; once, just before `finished`, if it sent any
    error,      // error: the stream failed; nothing follows
    finished,   // finish: the stream completed; nothing follows
  } what = kind::content;
  std::string text{};
  token_usage usage{};
  upstream_error error{};
  finish_reason finish = finish_reason::stop;
};

struct translator_limits {
  std::size_t max_event_bytes = sse_decoder::default_max_event_bytes;
  std::size_t max_text_bytes = std::size_t{32} << 20;
  // Characters at the end of the message that are not emitted until the next event (or the
  // end), because upstream tail edits rewrite a few characters back (reference §4.3, S12).
  std::size_t hold_back_chars = 24;
};

class stream_translator {
 public:
  explicit stream_translator(translator_limits limits = {});

  // Feeds upstream body bytes split anywhere; appends what became certain to `out`.
  void feed(std::string_view body_bytes, std::vector<stream_output>& out);

  // Upstream EOF: decodes a last unterminated event, releases held-back text, and if no done,
  // [DONE] or error was seen, ends with error `truncated`.
  void finish(std::vector<stream_output>& out);

  // done / [DONE] / an error / EOF was seen; further input is ignored.
  bool ended() const { return state_ != state::streaming; }

  // The reasoning and answer derived from the final message text (for non-stream responses).
  // Until the stream ends, what has been emitted so far. Empty after a content filter.
  const std::string& final_reasoning() const {
    return ended() ? final_reasoning_ : sent_[static_cast<int>(channel::reasoning)];
  }
  const std::string& final_content() const {
    return ended() ? final_content_ : sent_[static_cast<int>(channel::content)];
  }

  token_usage usage() const { return usage_; }

  // Times an edit rewrote text that had already been emitted (append-only clients cannot take
  // it back; emission continued from the new text at the emitted length).
  std::size_t late_rewrites() const { return late_rewrites_; }

 private:
  enum class state { streaming, completed, failed };

  bool take(sse_result result, std::vector<stream_output>& out);  // false: need more bytes
  void take_payload(std::string_view payload, std::vector<stream_output>& out);
  void emit_text(bool final, std::vector<stream_output>& out);
  void complete(finish_reason reason, std::vector<stream_output>& out);
  void fail(upstream_error error, std::vector<stream_output>& out);
  void fail(upstream_fault fault, std::string detail, std::vector<stream_output>& out);

  state state_ = state::streaming;
  sse_decoder decoder_;
  message_text text_;
  message_view view_;
  token_usage usage_;
  std::string sent_[2];           // per channel: the derived text up to the emission mark
  std::size_t mark_[2] = {0, 0};  // per channel: bytes of derived text already emitted
  std::string final_reasoning_;
  std::string final_content_;
  std::size_t late_rewrites_ = 0;
};

}  // namespace zai
