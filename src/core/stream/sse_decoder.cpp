#include "core/stream/sse_decoder.hpp"

namespace zai {
namespace {

constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";

// A data line carries "data: " before its payload, and the first line may also carry the byte
// order mark; allow that much beyond the payload bound before giving up on buffering a line.
constexpr std::size_t line_overhead = 8;

// Where the first line ends: the first '\r' or '\n'. (find_first_of("\r\n") costs a memchr
// call per byte; two bounded searches cost one pass.)
std::size_t line_end(std::string_view bytes) {
  const std::size_t lf = bytes.find('\n');
  const std::size_t cr = bytes.substr(0, lf).find('\r');
  return cr != std::string_view::npos ? cr : lf;
}

// Whether a line that starts with `head` is a data field (`data:`; a bare `data` line is
// short, so it never reaches this test). Only data makes an event too big: a long comment or
// other field is ignored exactly as take_line ignores it when it arrives in one feed.
bool opens_data_field(std::string_view head, bool first_line) {
  if (first_line && head.starts_with(byte_order_mark)) head.remove_prefix(byte_order_mark.size());
  return head.starts_with("data:");
}

}  // namespace

sse_decoder::sse_decoder(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

sse_result sse_decoder::next(std::string_view& bytes) {
  if (event_ready_) {
    data_.clear();
    has_data_ = false;
    event_ready_ = false;
  }
  while (!bytes.empty()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    const std::size_t end = line_end(bytes);
    if (end == std::string_view::npos) {
      // The line continues in a later feed.
      if (skipping_line_) {
        bytes = {};
        return sse_result::need_more;
      }
      const std::size_t mark = first_line_ ? byte_order_mark.size() : 0;
      if (line_.size() + bytes.size() > max_event_bytes_ + line_overhead + mark) {
        // Too long to buffer: drop the rest of the line. As a data line it also dooms its event
        // (reported once: an event already being skipped was reported when it overflowed).
        std::string head = line_.substr(0, 16);
        head.append(bytes.substr(0, 16 - head.size()));
        const bool oversize = !skipping_event_ && opens_data_field(head, first_line_);
        line_.clear();
        skipping_line_ = true;
        first_line_ = false;
        bytes = {};
        if (!oversize) return sse_result::need_more;
        data_.clear();
        has_data_ = false;
        skipping_event_ = true;
        return sse_result::oversize_event;
      }
      line_.append(bytes);
      bytes = {};
      return sse_result::need_more;
    }
    after_cr_ = bytes[end] == '\r';
    const std::string_view piece = bytes.substr(0, end);
    bytes.remove_prefix(end + 1);
    if (skipping_line_) {
      skipping_line_ = false;
      continue;
    }
    sse_result result;
    if (line_.empty()) {
      result = take_line(piece);  // the common case: the whole line is in this feed
    } else {
      line_.append(piece);
      result = take_line(line_);
      line_.clear();
    }
    if (result != sse_result::need_more) return result;
  }
  return sse_result::need_more;
}

sse_result sse_decoder::finish() {
  if (event_ready_) {
    data_.clear();
    has_data_ = false;
    event_ready_ = false;
  }
  after_cr_ = false;
  if (skipping_line_) {
    // The dropped line ends here; the event before it still counts, as in any other EOF.
    skipping_line_ = false;
  } else if (!line_.empty()) {
    const std::string last = std::move(line_);
    line_.clear();
    if (const auto result = take_line(last); result != sse_result::need_more) return result;
  }
  return end_event();
}

sse_result sse_decoder::take_line(std::string_view line) {
  if (first_line_) {
    first_line_ = false;
    if (line.starts_with(byte_order_mark)) line.remove_prefix(byte_order_mark.size());
  }
  if (line.empty()) return end_event();
  if (line.front() == ':' || skipping_event_) return sse_result::need_more;

  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  if (field != "data") return sse_result::need_more;

  const std::size_t joined = data_.size() + (has_data_ ? 1 : 0) + value.size();
  if (joined > max_event_bytes_) {
    data_.clear();
    has_data_ = false;
    skipping_event_ = true;
    return sse_result::oversize_event;
  }
  if (has_data_) data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
  return sse_result::need_more;
}

sse_result sse_decoder::end_event() {
  skipping_event_ = false;
  if (!has_data_) return sse_result::need_more;
  event_ready_ = true;
  return sse_result::event;
}

}  // namespace zai
