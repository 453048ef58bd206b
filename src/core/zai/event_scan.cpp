#include "core/zai/event_scan.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "core/encoding.hpp"
#include "core/stream/utf16.hpp"

namespace zai {
namespace {

// How deep the scan follows unknown values before it leaves the payload to the full parser
// (whose own limit is 32).
constexpr int max_depth = 16;

// Bytes a string can hold as they are: printable ASCII but the quote and the backslash; with
// `any_utf8`, also every byte from 0x80 (for strings whose UTF-8 is not checked, below).
template <bool any_utf8>
constexpr std::array<bool, 256> plain_bytes = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x100; ++c) t[c] = c != '"' && c != '\\' && (any_utf8 || c < 0x80);
  return t;
}();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing
// past U+10FFFF) that starts with a non-ASCII byte at `p`, or 0.
std::size_t utf8_length(const char* p, const char* end) {
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(p[i]); };
  const auto tail = [&](std::size_t i) { return (at(i) & 0xC0) == 0x80; };
  const unsigned char c = at(0);
  const std::size_t room = static_cast<std::size_t>(end - p);
  if (c >= 0xC2 && c <= 0xDF) return room >= 2 && tail(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (room < 3 || !tail(1) || !tail(2)) return 0;
    if (c == 0xE0 && at(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && at(1) > 0x9F) return 0;   // a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (room < 4 || !tail(1) || !tail(2) || !tail(3)) return 0;
    if (c == 0xF0 && at(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && at(1) > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// A string value as it stands in the payload, between its quotes: checked, decoded only when
// used (most have no escape, and then the bytes are the value).
struct string_field {
  std::string_view raw;
  bool present = false;
  bool escaped = false;
};

// The fields parse_zai_event reads, each as the last occurrence of its key left it (a JSON
// object keeps the last of duplicate keys).
struct frame_fields {
  bool type_present = false;
  bool completion_type = false;
  bool data_object = false;
  string_field phase, edit, delta, content;
  std::optional<std::uint64_t> edit_index;
  bool done = false;
  std::optional<token_usage> usage;
};

// The value of a checked string (scanner::string accepted it).
std::string decoded(const string_field& f) {
  if (!f.escaped) return std::string(f.raw);
  std::string out;
  out.reserve(f.raw.size());
  for (std::size_t i = 0; i < f.raw.size(); ++i) {
    if (f.raw[i] != '\\') {
      out += f.raw[i];
      continue;
    }
    const char e = f.raw[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        const auto unit_at = [&](std::size_t at) {
          std::uint32_t unit = 0;
          for (std::size_t k = at; k < at + 4; ++k) {
            unit = unit * 16 + static_cast<std::uint32_t>(hex_digit_value(f.raw[k]));
          }
          return unit;
        };
        std::uint32_t cp = unit_at(i + 1);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // checked: a low surrogate escape follows
          cp = 0x10000 + ((cp - 0xD800) << 10) + (unit_at(i + 3) - 0xDC00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e; break;  // " \ /
    }
  }
  return out;
}

// A cursor over the payload. Every method returns false for input it does not fully understand,
// and the scan then gives up.
class scanner {
 public:
  explicit scanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool frame(frame_fields& f) {
    bool seen_data = false;
    return object([&](std::string_view key) {
      if (key == "type") {
        f.type_present = true;
        string_field type;
        if (!string_or_other(type)) return false;
        f.completion_type = type.present && decoded(type) == "chat:completion";
        return true;
      }
      if (key == "data") {
        if (seen_data) return false;  // which one counts is the full parser's business
        seen_data = true;
        if (!next_is('{')) return skip_value(1);
        f.data_object = true;
        return data(f);
      }
      return key != "error" && skip_value(1);  // an error: the full parser classifies it
    }) && (space(), p_ == end_);
  }

 private:
  bool data(frame_fields& f) {
    return object([&](std::string_view key) {
      if (key == "phase") return string_or_other(f.phase);
      if (key == "delta_content") return string_or_other(f.delta);
      if (key == "edit_content") return string_or_other(f.edit);
      if (key == "content") return string_or_other(f.content);
      if (key == "edit_index") return count_or_other(f.edit_index);
      if (key == "done") {
        f.done = literal("true");
        return f.done || skip_value(2);
      }
      if (key == "usage") {
        if (!next_is('{')) {
          f.usage.reset();
          return skip_value(2);
        }
        f.usage.emplace();
        return usage(*f.usage);
      }
      // A nested data (error frames repeat `done` and the error there) or an error.
      return key != "data" && key != "error" && skip_value(2);
    });
  }

  bool usage(token_usage& u) {
    u = token_usage{};
    u.present = true;
    bool total_given = false;
    std::uint64_t total = 0;
    const bool ok = object([&](std::string_view key) {
      if (key == "prompt_tokens") return count_or_zero(u.prompt_tokens);
      if (key == "completion_tokens") return count_or_zero(u.completion_tokens);
      if (key == "total_tokens") {
        std::optional<std::uint64_t> n;
        if (!count_or_other(n)) return false;
        total_given = n.has_value();
        total = n.value_or(0);
        return true;
      }
      if (key == "prompt_tokens_details") {
        u.cached_tokens = 0;
        if (!next_is('{')) return skip_value(3);
        return object([&](std::string_view inner) {
          if (inner == "cached_tokens") return count_or_zero(u.cached_tokens);
          return skip_value(4);
        });
      }
      return skip_value(3);
    });
    if (!ok) return false;
    u.total_tokens = total_given ? total : u.prompt_tokens + u.completion_tokens;
    return true;
  }

  // An object at p_: `member(key)` reads each member's value.
  template <class Member>
  bool object(Member&& member) {
    if (!take('{')) return false;
    if (take('}')) return true;
    for (;;) {
      std::string_view key;
      if (!plain_key(key) || !take(':') || !member(key)) return false;
      if (take(',')) continue;
      return take('}');
    }
  }

  // A string value into `out`; any other value resets it (the parser reads only strings there).
  bool string_or_other(string_field& out) {
    if (!next_is('"')) {
      out = {};
      return skip_value(2);
    }
    out.present = true;
    const char* start = p_ + 1;
    if (!string<false>(&out.escaped)) return false;
    out.raw = std::string_view(start, static_cast<std::size_t>(p_ - 1 - start));
    return true;
  }

  // A non-negative count as the parser's count_of reads it: negative integers are 0; fractions,
  // exponents and integers past 64 bits are left to the parser.
  bool count_or_other(std::optional<std::uint64_t>& out) {
    space();
    if (p_ == end_ || !(is_digit(*p_) || *p_ == '-')) {
      out.reset();
      return skip_value(2);
    }
    const bool negative = *p_ == '-';
    const char* digits = p_ + (negative ? 1 : 0);
    if (!number()) return false;
    if (std::find_if(digits, p_, [](char c) { return !is_digit(c); }) != p_) return false;
    std::uint64_t n = 0;
    for (const char* d = digits; d < p_; ++d) {
      const auto digit = static_cast<std::uint64_t>(*d - '0');
      if (n > (UINT64_MAX - digit) / 10) return false;
      n = n * 10 + digit;
    }
    out = negative ? 0 : n;
    return true;
  }

  // A count where a missing or non-numeric value means 0.
  bool count_or_zero(std::uint64_t& out) {
    std::optional<std::uint64_t> n;
    if (!count_or_other(n)) return false;
    out = n.value_or(0);
    return true;
  }

  bool skip_value(int depth) {
    space();
    if (p_ == end_ || depth > max_depth) return false;
    switch (*p_) {
      case '"': return string<true>(nullptr);
      case '{':
        return object([&](std::string_view) { return skip_value(depth + 1); });
      case '[': {
        ++p_;
        if (take(']')) return true;
        for (;;) {
          if (!skip_value(depth + 1)) return false;
          if (take(',')) continue;
          return take(']');
        }
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, with an exponent of at most four digits (a
  // larger one is the parser's to refuse or round).
  bool number() {
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (digits() == 0) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const std::size_t n = digits();
      if (n == 0 || n > 4) return false;
    }
    return true;
  }

  std::size_t digits() {
    const char* start = p_;
    while (p_ < end_ && is_digit(*p_)) ++p_;
    return static_cast<std::size_t>(p_ - start);
  }

  bool literal(std::string_view word) {
    space();
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // A key without escapes (the fields read here have none).
  bool plain_key(std::string_view& key) {
    if (!next_is('"')) return false;
    const char* start = ++p_;
    skip_plain<true>();
    if (p_ == end_ || *p_ != '"') return false;  // an escape or a control character
    key = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return true;
  }

  // Steps over the string at p_, and gives up on what the parser would refuse or repair:
  // control characters, a bad escape, a lone surrogate escape, and — in a string whose value
  // is read (`any_utf8` false) — malformed UTF-8. A skipped string may hold malformed UTF-8:
  // the parser's repair pass only replaces those bytes with U+FFFD, which changes no field it
  // reads. `escaped` tells whether the string has any escape.
  template <bool any_utf8>
  bool string(bool* escaped) {
    ++p_;  // the opening quote
    for (;;) {
      skip_plain<any_utf8>();
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (escaped) *escaped = true;
        if (!escape()) return false;
      } else {
        const std::size_t n = c < 0x20 ? 0 : utf8_length(p_, end_);
        if (n == 0) return false;
        p_ += n;
      }
    }
  }

  // Checks the escape at p_ and steps over it.
  bool escape() {
    if (end_ - p_ < 2) return false;
    switch (p_[1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p_ += 2;
        return true;
      case 'u': return unicode_escape();
      default: return false;
    }
  }

  // \uXXXX, or a \uD8xx\uDCxx pair.
  bool unicode_escape() {
    const long unit = code_unit();
    if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return false;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const long low = code_unit();
      if (low < 0xDC00 || low > 0xDFFF) return false;
    }
    return true;
  }

  long code_unit() {
    if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return -1;
    long unit = 0;
    for (int i = 2; i < 6; ++i) {
      const int digit = hex_digit_value(p_[i]);
      if (digit < 0) return -1;
      unit = unit * 16 + digit;
    }
    p_ += 6;
    return unit;
  }

  void space() {
    // Most calls find no space at all: one comparison says so.
    while (p_ < end_ && static_cast<unsigned char>(*p_) <= ' ' &&
           (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
      ++p_;
    }
  }

  // Steps p_ over the bytes a string holds as they are (plain_bytes), eight at a time while
  // there are eight, to the first byte that ends or escapes the string, or needs a look.
  template <bool any_utf8>
  void skip_plain() {
    static_assert(std::endian::native == std::endian::little, "the word scan reads bytes in order");
    constexpr std::uint64_t ones = 0x0101010101010101U, highs = 0x8080808080808080U;
    // Bytes below n (n <= 128): the classic test, exact over the whole word.
    const auto below = [](std::uint64_t w, std::uint64_t n) { return (w - ones * n) & ~w & highs; };
    const auto equal = [&](std::uint64_t w, std::uint64_t c) { return below(w ^ (ones * c), 1); };
    while (end_ - p_ >= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p_, 8);
      const std::uint64_t stops =
          below(w, 0x20) | equal(w, '"') | equal(w, '\\') | (any_utf8 ? 0 : w & highs);
      if (stops != 0) {
        // The lowest flagged byte is a true stop (a false flag only ever sits above one), and
        // the lowest byte is the first in memory on this little-endian target.
        p_ += std::countr_zero(stops) / 8;
        return;
      }
      p_ += 8;
    }
    while (p_ < end_ && plain_bytes<any_utf8>[static_cast<unsigned char>(*p_)]) ++p_;
  }
  bool next_is(char c) {
    if (p_ < end_ && *p_ == c) return true;  // upstream JSON has no spaces
    space();
    return p_ < end_ && *p_ == c;
  }
  bool take(char c) {
    if (!next_is(c)) return false;
    ++p_;
    return true;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

std::optional<zai_event> scan_zai_event(std::string_view payload) {
  frame_fields f;
  if (!scanner(payload).frame(f)) return std::nullopt;
  zai_event ev;
  if (f.type_present && !f.completion_type) {
    ev.what = zai_event::kind::ignored_type;
    return ev;
  }
  ev.what = zai_event::kind::event;
  if (!f.data_object) return ev;
  if (f.phase.present) ev.phase = decoded(f.phase);
  ev.done = f.done || ev.phase == "done";
  if (f.usage) ev.usage = *f.usage;
  if (f.edit.present) {
    ev.mutation = text_mutation::edit;
    ev.text = decoded(f.edit);
    ev.edit_index = f.edit_index.value_or(0);
  } else if (f.delta.present) {
    ev.mutation = text_mutation::append;
    ev.text = decoded(f.delta);
  } else if (f.content.present) {
    ev.mutation = text_mutation::replace;
    ev.text = decoded(f.content);
  }
  return ev;
}

}  // namespace zai
