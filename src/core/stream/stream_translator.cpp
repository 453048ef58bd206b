#include "core/stream/stream_translator.hpp"

#include <algorithm>

#include "core/stream/utf16.hpp"

namespace zai {
namespace {

int index_of(channel c) { return static_cast<int>(c); }

stream_output::kind output_kind(channel c) {
  return c == channel::reasoning ? stream_output::kind::reasoning : stream_output::kind::content;
}

}  // namespace

stream_translator::stream_translator(translator_limits limits)
    : decoder_(limits.max_event_bytes),
      text_(limits.max_text_bytes),
      view_(limits.hold_back_chars) {}

void stream_translator::feed(std::string_view body_bytes, std::vector<stream_output>& out) {
  while (state_ == state::streaming && take(decoder_.next(body_bytes), out)) {
  }
}

void stream_translator::finish(std::vector<stream_output>& out) {
  if (state_ == state::streaming) take(decoder_.finish(), out);
  if (state_ == state::streaming) {
    fail(upstream_fault::truncated, "the upstream stream ended before it was done", out);
  }
}

bool stream_translator::take(sse_result result, std::vector<stream_output>& out) {
  switch (result) {
    case sse_result::need_more:
      return false;
    case sse_result::event:
      take_payload(decoder_.payload(), out);
      return true;
    case sse_result::oversize_event:
      fail(upstream_fault::oversize_event, "an upstream event exceeded the size limit", out);
      return true;
  }
  return false;
}

void stream_translator::take_payload(std::string_view payload, std::vector<stream_output>& out) {
  zai_event event = parse_zai_event(payload);
  switch (event.what) {
    case zai_event::kind::not_json:
    case zai_event::kind::ignored_type:
      return;
    case zai_event::kind::done_sentinel:
      complete(finish_reason::stop, out);
      return;
    case zai_event::kind::event:
      break;
  }
  if (event.usage.present) usage_ = event.usage;
  if (event.error && event.error->fault == upstream_fault::content_filter) {
    // The filter withdraws the message (its frame wipes the text): release nothing more.
    final_reasoning_.clear();
    final_content_.clear();
    complete(finish_reason::content_filter, out);
    return;
  }
  const bool applied = text_.apply(event.mutation, event.text, event.edit_index);
  if (event.error) {
    fail(std::move(*event.error), out);  // the upstream's own reason outranks our bound
  } else if (!applied) {
    fail(upstream_fault::malformed_stream, "the upstream message exceeded the size limit", out);
  } else if (event.done) {
    complete(finish_reason::stop, out);
  } else if (event.mutation != text_mutation::none) {
    emit_text(false, out);
  }
}

// Emits what the view holds beyond what was already sent, in message order. If the already
// sent text was rewritten, it cannot be taken back: emission continues at the same length.
void stream_translator::emit_text(bool final, std::vector<stream_output>& out) {
  view_.update(text_.text(), text_.take_unchanged_prefix(), final);
  for (const channel c : {channel::reasoning, channel::content}) {
    // Only the part the view rebuilt can differ from what was sent. A view that is merely
    // shorter (a tail edit took back held text) has rewritten nothing yet.
    const std::string_view now = view_.text(c);
    std::string& sent = sent_[index_of(c)];
    const std::size_t common = std::min(now.size(), sent.size());
    const std::size_t same = std::min(view_.kept(c), common);
    if (now.substr(same, common - same) != std::string_view(sent).substr(same, common - same)) {
      ++late_rewrites_;
      sent.assign(now.substr(0, std::min(mark_[index_of(c)], now.size())));
    }
  }
  std::size_t run_start[2] = {0, 0};
  for (const channel_run& run : view_.runs()) {
    const int c = index_of(run.which);
    const std::string& now = view_.text(run.which);
    const std::size_t from = utf8_boundary_at_or_after(now, std::max(run_start[c], mark_[c]));
    run_start[c] = run.end;
    if (run.end <= from) continue;
    out.push_back({.what = output_kind(run.which), .text = now.substr(from, run.end - from)});
    mark_[c] = run.end;
    sent_[c].append(now, sent_[c].size(), mark_[c] - sent_[c].size());
  }
  if (final) {
    final_reasoning_ = view_.reasoning();
    final_content_ = view_.content();
  }
}

void stream_translator::complete(finish_reason reason, std::vector<stream_output>& out) {
  if (reason != finish_reason::content_filter) emit_text(true, out);
  if (usage_.present) out.push_back({.what = stream_output::kind::usage, .usage = usage_});
  out.push_back({.what = stream_output::kind::finished, .finish = reason});
  state_ = state::completed;
}

// Errors do not take back text: what was held back is released first (S10 keeps its partial
// answer), then the error ends the stream.
void stream_translator::fail(upstream_error error, std::vector<stream_output>& out) {
  emit_text(true, out);
  out.push_back({.what = stream_output::kind::error, .error = std::move(error)});
  state_ = state::failed;
}

void stream_translator::fail(upstream_fault fault, std::string detail,
                             std::vector<stream_output>& out) {
  fail(upstream_error{fault, std::move(detail), {}}, out);
}

}  // namespace zai
