#include "core/tools/loose_json.hpp"

#include "core/encoding.hpp"
#include "core/stream/utf16.hpp"

namespace zai::tools {
namespace {

using boost::json::value;

constexpr int max_depth = 64;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$' || c == '-' || c == '.';
}

// A recursive-descent reader that forgives the slips listed in the header. Where the text ends,
// every open string, array and object is closed.
class loose_reader {
 public:
  explicit loose_reader(std::string_view text) : s_(text) {}

  std::optional<value> read_value(int depth) {
    if (depth > max_depth) return std::nullopt;
    skip_space();
    if (at_end()) return std::nullopt;
    const char c = s_[i_];
    if (c == '{') return read_object(depth);
    if (c == '[') return read_array(depth);
    if (c == '"' || c == '\'') return value(read_string());
    if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) return read_number();
    return read_literal();
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }

  void skip_space() {
    while (!at_end()) {
      if (is_space(s_[i_])) {
        ++i_;
      } else if (s_.substr(i_).starts_with("//") || s_[i_] == '#') {
        while (!at_end() && s_[i_] != '\n') ++i_;
      } else if (s_.substr(i_).starts_with("/*")) {
        const std::size_t end = s_.find("*/", i_ + 2);
        i_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else {
        return;
      }
    }
  }

  std::optional<value> read_object(int depth) {
    ++i_;
    boost::json::object out;
    for (;;) {
      skip_space();
      if (at_end()) return value(std::move(out));
      if (s_[i_] == '}') {
        ++i_;
        return value(std::move(out));
      }
      if (s_[i_] == ',') {
        ++i_;
        continue;
      }
      std::optional<std::string> key = read_key();
      if (!key) return std::nullopt;
      skip_space();
      if (at_end()) return value(std::move(out));
      if (s_[i_] != ':' && s_[i_] != '=') return std::nullopt;
      ++i_;
      std::optional<value> member = read_value(depth + 1);
      if (!member) {
        skip_space();
        if (!at_end()) return std::nullopt;
        member = value(nullptr);  // cut off after the colon
      }
      out[*key] = std::move(*member);
    }
  }

  std::optional<value> read_array(int depth) {
    ++i_;
    boost::json::array out;
    for (;;) {
      skip_space();
      if (at_end()) return value(std::move(out));
      if (s_[i_] == ']') {
        ++i_;
        return value(std::move(out));
      }
      if (s_[i_] == ',') {
        ++i_;
        continue;
      }
      std::optional<value> item = read_value(depth + 1);
      if (!item) return std::nullopt;
      out.push_back(std::move(*item));
    }
  }

  std::optional<std::string> read_key() {
    if (s_[i_] == '"' || s_[i_] == '\'') return read_string();
    const std::size_t start = i_;
    while (!at_end() && is_word_char(s_[i_])) ++i_;
    if (i_ == start) return std::nullopt;
    return std::string(s_.substr(start, i_ - start));
  }

  std::string read_string() {
    const char quote = s_[i_++];
    std::string out;
    while (!at_end() && s_[i_] != quote) {
      if (s_[i_] != '\\' || i_ + 1 >= s_.size()) {
        out += s_[i_++];
        continue;
      }
      read_escape(out);
    }
    if (!at_end()) ++i_;
    return out;
  }

  void read_escape(std::string& out) {
    const char e = s_[i_ + 1];
    i_ += 2;
    switch (e) {
      case 'n': out += '\n'; return;
      case 't': out += '\t'; return;
      case 'r': out += '\r'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'u': out += read_unicode_escape(); return;
      default: out += e; return;  // \" \\ \/ \' and unknown escapes keep the character
    }
  }

  std::optional<unsigned> read_hex4() {
    if (i_ + 4 > s_.size()) return std::nullopt;
    unsigned code = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int digit = hex_digit_value(s_[i_ + k]);
      if (digit < 0) return std::nullopt;
      code = code << 4 | unsigned(digit);
    }
    i_ += 4;
    return code;
  }

  // After "\u": one code point; a lone surrogate becomes U+FFFD, as a browser decodes it.
  std::string read_unicode_escape() {
    std::string out;
    std::optional<unsigned> code = read_hex4();
    if (!code) return "\xEF\xBF\xBD";
    if (*code >= 0xD800 && *code < 0xDC00 && s_.substr(i_).starts_with("\\u")) {
      const std::size_t before = i_;
      i_ += 2;
      const std::optional<unsigned> low = read_hex4();
      if (low && *low >= 0xDC00 && *low < 0xE000) {
        append_utf8(out, 0x10000 + ((*code - 0xD800) << 10) + (*low - 0xDC00));
        return out;
      }
      i_ = before;
    }
    append_utf8(out, *code >= 0xD800 && *code < 0xE000 ? 0xFFFD : *code);
    return out;
  }

  std::optional<value> read_number() {
    const std::size_t start = i_;
    if (s_[i_] == '+') ++i_;
    const std::size_t digits = i_;
    while (!at_end() && (is_word_char(s_[i_]) || s_[i_] == '+')) ++i_;
    std::optional<value> n = read_strict_json(s_.substr(digits, i_ - digits));
    if (n && n->is_number()) return n;
    i_ = start;
    return std::nullopt;
  }

  std::optional<value> read_literal() {
    const std::size_t start = i_;
    while (!at_end() && is_word_char(s_[i_])) ++i_;
    const std::string_view word = s_.substr(start, i_ - start);
    if (word == "true" || word == "True") return value(true);
    if (word == "false" || word == "False") return value(false);
    if (word == "null" || word == "None" || word == "undefined") return value(nullptr);
    i_ = start;
    return std::nullopt;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::optional<value> read_strict_json(std::string_view text) {
  boost::system::error_code ec;
  value v = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

std::optional<value> read_loose_json(std::string_view text) {
  if (std::optional<value> strict = read_strict_json(text)) return strict;
  return loose_reader(text).read_value(0);
}

}  // namespace zai::tools
