// How bytes cross the wasm boundary: a record is a sequence of fields, each a little-endian u32
// length followed by that many bytes. JavaScript writes one into the module's input buffer for a
// call and reads the module's output record after it; bodies and stream bytes travel as they are,
// with no JSON around them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zai::wasm {

class record_writer {
 public:
  void clear() { bytes_.clear(); }
  void add(std::string_view field) {
    const auto n = static_cast<std::uint32_t>(field.size());
    for (int i = 0; i < 4; ++i) bytes_ += static_cast<char>((n >> (8 * i)) & 0xFF);
    bytes_ += field;
  }
  void add(std::int64_t number) { add(std::to_string(number)); }
  void add_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
    for (const auto& [name, value] : headers) {
      add(name);
      add(value);
    }
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// Reads fields in order; a missing field reads as empty, so a short record is never a trap.
class record_reader {
 public:
  explicit record_reader(std::string_view bytes) : rest_(bytes) {}
  bool done() const { return rest_.empty(); }
  std::string_view next() {
    if (rest_.size() < 4) {
      rest_ = {};
      return {};
    }
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= std::uint32_t{static_cast<unsigned char>(rest_[i])} << (8 * i);
    rest_.remove_prefix(4);
    const auto field = rest_.substr(0, n);
    rest_.remove_prefix(field.size());
    return field;
  }

 private:
  std::string_view rest_;
};

}  // namespace zai::wasm
