// What the fuzz targets share: a failed invariant stops the run the way a sanitizer does (a
// message, then abort(), which libFuzzer records as a crash with its input), the checks on the
// JSON the core promises to write, and the input layout of the targets fed in pieces.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace zai::fuzz {

// Not assert(): it must also hold in builds with NDEBUG.
inline void require(bool holds, const char* invariant, std::string_view subject = {}) {
  if (holds) return;
  std::fprintf(stderr, "invariant failed: %s\n", invariant);
  if (!subject.empty()) {
    std::fprintf(stderr, "subject (%zu bytes): %.*s\n", subject.size(),
                 static_cast<int>(subject.size() > 2000 ? 2000 : subject.size()), subject.data());
  }
  std::abort();
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
