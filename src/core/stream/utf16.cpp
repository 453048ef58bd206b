#include "core/stream/utf16.hpp"

#include <cstdint>
#include <cstring>

namespace zai {
namespace {

// True when every byte of `s` is ASCII; eight bytes per step.
bool all_ascii(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + i, 8);
    if ((word & 0x8080808080808080U) != 0) return false;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
  }
  return true;
}

// One step of the WHATWG UTF-8 decoder: how many bytes the next character (or the next
// maximal invalid subpart) takes, and how many UTF-16 units it becomes.
struct utf8_step {
  std::size_t bytes = 1;
  std::size_t units = 1;
  bool valid = true;
};

utf8_step decode_step(std::string_view s, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(s[pos]);
  if (lead < 0x80) return {1, 1, true};
  std::size_t needed = 0;
  unsigned char lower = 0x80;
  unsigned char upper = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    needed = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    needed = 2;
    if (lead == 0xE0) lower = 0xA0;
    if (lead == 0xED) upper = 0x9F;  // no encoded surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    needed = 3;
    if (lead == 0xF0) lower = 0x90;
    if (lead == 0xF4) upper = 0x8F;
  } else {
    return {1, 1, false};
  }
  std::size_t seen = 0;
  while (seen < needed) {
    const std::size_t at = pos + 1 + seen;
    if (at >= s.size()) return {1 + seen, 1, false};
    const auto byte = static_cast<unsigned char>(s[at]);
    if (byte < lower || byte > upper) return {1 + seen, 1, false};
    lower = 0x80;
    upper = 0xBF;
    ++seen;
  }
  return {1 + needed, needed == 3 ? std::size_t{2} : std::size_t{1}, true};
}

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

std::size_t utf16_length(std::string_view utf8) {
  std::size_t units = 0;
  for (std::size_t pos = 0; pos < utf8.size();) {
    const auto step = decode_step(utf8, pos);
    pos += step.bytes;
    units += step.units;
  }
  return units;
}

std::size_t utf8_offset_of_utf16(std::string_view utf8, std::size_t index) {
  std::size_t units = 0;
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    const auto step = decode_step(utf8, pos);
    if (units + step.units > index) break;
    units += step.units;
    pos += step.bytes;
  }
  return pos;
}

std::size_t utf8_offset_of_last_chars(std::string_view utf8, std::size_t count) {
  // The common case, an ASCII tail: one byte per character.
  if (count <= utf8.size() && all_ascii(utf8.substr(utf8.size() - count))) {
    return utf8.size() - count;
  }
  std::size_t pos = utf8.size();
  for (; count > 0 && pos > 0; --count) {
    --pos;
    // Step over at most three continuation bytes: a valid character is never longer.
    for (int i = 0; i < 3 && pos > 0 && is_continuation(static_cast<unsigned char>(utf8[pos]));
         ++i) {
      --pos;
    }
  }
  return pos;
}

std::size_t utf8_boundary_at_or_after(std::string_view utf8, std::size_t offset) {
  if (offset >= utf8.size()) return utf8.size();
  for (int i = 0;
       i < 3 && offset < utf8.size() && is_continuation(static_cast<unsigned char>(utf8[offset]));
       ++i) {
    ++offset;
  }
  return offset;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_valid_utf8(std::string_view bytes) {
  for (std::size_t pos = 0; pos < bytes.size();) {
    const auto step = decode_step(bytes, pos);
    if (!step.valid) return false;
    pos += step.bytes;
  }
  return true;
}

std::string repair_utf8(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 8);
  for (std::size_t pos = 0; pos < bytes.size();) {
    const auto step = decode_step(bytes, pos);
    if (step.valid) {
      out.append(bytes.substr(pos, step.bytes));
    } else {
      out.append("\xEF\xBF\xBD");
    }
    pos += step.bytes;
  }
  return out;
}

}  // namespace zai
