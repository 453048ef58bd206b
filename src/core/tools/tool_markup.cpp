#include "core/tools/tool_markup.hpp"

#include <array>

namespace zai::tools {
namespace {

struct spelling {
  std::string_view name;  // lowered, without '_' and '-'
  tag open, close;
};

// Each spelling seen in the field or one edit away from the contract's own.
constexpr std::array<spelling, 11> spellings{{
    {"toolcall", tag::call_open, tag::call_close},
    {"toolcalls", tag::call_open, tag::call_close},
    {"functioncall", tag::call_open, tag::call_close},
    {"functioncalls", tag::call_open, tag::call_close},
    {"tooluse", tag::call_open, tag::call_close},
    {"endtoolcall", tag::call_close, tag::call_close},  // <<<TOOL_CALL>>> … <<<END_TOOL_CALL>>>
    {"argkey", tag::key_open, tag::key_close},
    {"argumentkey", tag::key_open, tag::key_close},
    {"argvalue", tag::value_open, tag::value_close},
    {"argumentvalue", tag::value_open, tag::value_close},
    {"argval", tag::value_open, tag::value_close},
}};

constexpr std::size_t max_brackets = 4;
constexpr std::size_t max_name = 16;
constexpr std::size_t max_attributes = 160;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The tag a spelling names, given whether it closes; nullopt when the state does not want it.
std::optional<tag> wanted_tag(const spelling& s, bool closing, tag_set wanted) {
  const tag t = closing ? s.close : s.open;
  if (!wanted.has(t)) return std::nullopt;
  return t;
}

// Whether some wanted spelling starts with `normalized` (or equals it, when `whole`).
std::optional<tag> find_spelling(std::string_view normalized, bool closing, tag_set wanted,
                                 bool whole) {
  for (const spelling& s : spellings) {
    const bool fits = whole ? s.name == normalized : s.name.starts_with(normalized);
    if (fits) {
      if (auto t = wanted_tag(s, closing, wanted)) return t;
    }
  }
  return std::nullopt;
}

// The value of `key` in `attributes` (key="v", key='v', key=v, key: "v"), if present.
std::optional<std::string> attribute(std::string_view attributes, std::string_view key) {
  for (std::size_t at = attributes.find(key); at != std::string_view::npos;
       at = attributes.find(key, at + 1)) {
    if (at > 0 && !is_space(attributes[at - 1])) continue;
    std::size_t i = at + key.size();
    while (i < attributes.size() && is_space(attributes[i])) ++i;
    if (i >= attributes.size() || (attributes[i] != '=' && attributes[i] != ':')) continue;
    ++i;
    while (i < attributes.size() && is_space(attributes[i])) ++i;
    const bool quoted = i < attributes.size() && (attributes[i] == '"' || attributes[i] == '\'');
    const char quote = quoted ? attributes[i++] : ' ';
    std::size_t end = i;
    while (end < attributes.size() && attributes[end] != quote &&
           (quoted || (!is_space(attributes[end]) && attributes[end] != '/'))) {
      ++end;
    }
    return std::string(attributes.substr(i, end - i));
  }
  return std::nullopt;
}

tag_match maybe_or_no(bool at_end) {
  tag_match m;
  m.is = at_end ? tag_match::verdict::no : tag_match::verdict::maybe;
  return m;
}

}  // namespace

tag_match match_tag(std::string_view text, tag_set wanted, bool at_end) {
  const tag_match no;
  std::size_t i = 0;
  while (i < text.size() && text[i] == '<' && i < max_brackets) ++i;
  if (i < text.size() && text[i] == '<') return no;
  if (i < text.size() && text[i] == '|') ++i;
  if (i == text.size()) return maybe_or_no(at_end);  // opening or closing: not known yet
  const bool closing = i < text.size() && text[i] == '/';
  if (closing) ++i;

  std::string normalized;
  for (; i < text.size() && is_name_char(text[i]); ++i) {
    if (text[i] == '_' || text[i] == '-') continue;
    normalized += lower(text[i]);
    if (normalized.size() > max_name) return no;
  }
  if (!find_spelling(normalized, closing, wanted, false)) return no;
  if (i == text.size()) return maybe_or_no(at_end);
  const std::optional<tag> t = find_spelling(normalized, closing, wanted, true);
  if (!t) return no;

  // Attributes, then the closing brackets: '>' with drift ("|>", "/>", ">>").
  const std::size_t attributes_at = i;
  while (i < text.size() && text[i] != '>' && text[i] != '<' && text[i] != '\n') {
    if (i - attributes_at > max_attributes) return no;
    ++i;
  }
  if (i == text.size()) return maybe_or_no(at_end);
  if (text[i] != '>') return no;
  std::string_view attributes = text.substr(attributes_at, i - attributes_at);
  while (!attributes.empty() && (attributes.back() == '|' || attributes.back() == '/')) {
    attributes.remove_suffix(1);
  }
  if (!attributes.empty() && !is_space(attributes.front())) return no;
  const std::size_t first_close = i;
  while (i < text.size() && text[i] == '>' && i - first_close < max_brackets) ++i;
  // One more '>' may still come; wait for the next character unless the text is complete.
  if (i == text.size() && !at_end) return maybe_or_no(false);

  tag_match m;
  m.is = tag_match::verdict::yes;
  m.what = *t;
  m.length = i;
  if (m.what == tag::call_open) {
    m.nonce = attribute(attributes, "nonce");
    m.name = attribute(attributes, "name").value_or("");
  }
  return m;
}

}  // namespace zai::tools
