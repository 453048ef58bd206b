// What the fuzz targets share: a failed invariant stops the run the way a sanitizer does (a
// message, then abort(), which libFuzzer records as a crash with its input), the checks on the
// JSON the core promises to write, and the input layout of the targets fed in pieces.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace zai::fuzz {

// `text` with every byte a terminal would hide or mangle written as an escape (\xNN, \t, \r, \\),
// so a subject with NULs, stray UTF-8 or trailing blanks reads exactly; newlines stay newlines
// unless `escape_newlines`.
inline std::string escaped_bytes(std::string_view text, bool escape_newlines = false) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n' && !escape_newlines) {
      out += '\n';
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7F) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

// Stops the run with `report` printed as it is (the caller escaped what needs escaping).
[[noreturn]] inline void fail(const char* invariant, std::string_view report = {}) {
  std::fprintf(stderr, "invariant failed: %s\n", invariant);
  if (!report.empty()) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(report.size()), report.data());
  }
  std::abort();
}

// Not assert(): it must also hold in builds with NDEBUG. The subject is printed escaped
// (escaped_bytes) and cut at 8000 bytes.
inline void require(bool holds, const char* invariant, std::string_view subject = {}) {
  if (holds) return;
  if (subject.empty()) fail(invariant);
  fail(invariant, "subject (" + std::to_string(subject.size()) + " bytes" +
                      (subject.size() > 8000 ? ", the first 8000 shown" : "") + "):\n" +
                      escaped_bytes(subject.substr(0, 8000)));
}

// Boost.JSON's strict parser: it also refuses invalid UTF-8 inside strings, which clients'
// JSON parsers refuse too.
inline boost::json::value require_json(std::string_view text, const char* invariant) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  require(!ec, invariant, text);
  return v;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The targets that take a stream: byte 0 picks options, byte 1's low nibble is a count P, and
// the next P bytes are piece lengths (each byte + 1) used in turn to cut the rest, the body,
// into feeds; P = 0 feeds it whole.
struct cut_input {
  std::uint8_t options = 0;
  std::string_view piece_lengths;
  std::string_view body;
};

inline std::optional<cut_input> read_cut_input(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return std::nullopt;
  const std::size_t count = data[1] & 0x0F;
  if (size < 2 + count) return std::nullopt;
  const std::string_view input = as_text(data, size);
  return cut_input{data[0], input.substr(2, count), input.substr(2 + count)};
}

// Calls `feed(piece)` for each piece of `body` cut by `piece_lengths` in turn.
template <class Feed>
void feed_in_pieces(std::string_view body, std::string_view piece_lengths, Feed&& feed) {
  std::size_t next = 0;
  while (!body.empty()) {
    std::size_t n = body.size();
    if (!piece_lengths.empty()) {
      n = static_cast<std::uint8_t>(piece_lengths[next++ % piece_lengths.size()]) + 1u;
      if (n > body.size()) n = body.size();
    }
    feed(body.substr(0, n));
    body.remove_prefix(n);
  }
}

}  // namespace zai::fuzz
