// What the fuzz targets share: a failed invariant stops the run the way a sanitizer does (a
// message, then abort(), which libFuzzer records as a crash with its input), and the checks on
// the JSON the core promises to write.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

}  // namespace zai::fuzz
