// A sans-I/O decoder for the upstream's Server-Sent Events. It takes body bytes split anywhere
// (inside `data:`, inside a UTF-8 character, between `\r` and `\n`) and yields each event's data
// payload, following the SSE rules: lines end in `\n`, `\r\n` or `\r`; `data:` loses one optional
// space; several `data:` lines of one event join with `\n`; a blank line ends the event; comment
// lines (`:`) and other fields (`event:`, `id:`, `retry:`) are ignored. The upstream sends one
// `data:` line per event (reference §4.1), but events can be megabytes long, so each event is
// bounded: one that exceeds `max_event_bytes` is skipped and reported instead of buffered.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zai {

enum class sse_result {
  need_more,       // every byte given has been consumed; feed more
  event,           // payload() holds one complete event's data
  oversize_event,  // an event exceeded the bound and is being skipped
};

class sse_decoder {
 public:
  static constexpr std::size_t default_max_event_bytes = std::size_t{8} << 20;

  explicit sse_decoder(std::size_t max_event_bytes = default_max_event_bytes);

  // Consumes bytes from the front of `bytes` until one event is complete (or skipped), or all
  // are consumed. Call again with the rest until it returns need_more. Results come in stream
  // order, which a caller that must stop at the first bad event needs.
  sse_result next(std::string_view& bytes);

  // At end of input: an unterminated last line and an event without its blank line still count
  // (a truncated upstream should lose as little as possible). Returns event at most once.
  sse_result finish();

  // The data of the event just returned; valid until the next call.
  std::string_view payload() const { return data_; }

  // Convenience: calls on_data(std::string_view) for every event in `bytes`; returns false if
  // any event was skipped as oversize.
  template <class OnData>
  bool feed(std::string_view bytes, OnData&& on_data) {
    bool all_kept = true;
    for (;;) {
      switch (next(bytes)) {
        case sse_result::need_more:
          return all_kept;
        case sse_result::event:
          on_data(payload());
          break;
        case sse_result::oversize_event:
          all_kept = false;
          break;
      }
    }
  }

 private:
  sse_result take_line(std::string_view line);
  sse_result end_event();

  std::size_t max_event_bytes_;
  std::string line_;             // the current line while it spans several feeds
  std::string data_;             // the current event's data, lines joined with '\n'
  bool has_data_ = false;        // a data field was seen (an empty payload is still an event)
  bool event_ready_ = false;     // data_ was handed out and must be cleared on the next call
  bool after_cr_ = false;        // the previous byte ended a line with '\r'; skip a following '\n'
  bool skipping_line_ = false;   // the current line overflowed; drop bytes until its end
  bool skipping_event_ = false;  // the current event overflowed; drop lines until the blank one
  bool first_line_ = true;       // a UTF-8 byte order mark may open the stream
};

}  // namespace zai
