// Small text facts the tool-call parser's files (prose, calls, JSON calls) share: which bytes are
// blank, where a run of fence characters ends, where a code fence closes, how much of a piece
// ends on a whole UTF-8 character.
#pragma once

#include <cstddef>
#include <string_view>

namespace zai::tools::text {

inline constexpr std::size_t npos = std::string_view::npos;
inline constexpr std::string_view spaces = " \t\r\n";

inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
inline bool is_space(char c) { return is_blank(c) || c == '\n'; }

// How many times `c` repeats from `at`.
inline std::size_t run_length(std::string_view text, std::size_t at, char c) {
  std::size_t end = at;
  while (end < text.size() && text[end] == c) ++end;
  return end - at;
}

// The length of `text` without an incomplete UTF-8 character at its end.
inline std::size_t complete_utf8_prefix(std::string_view text) {
  const std::size_t n = text.size();
  for (std::size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto byte = static_cast<unsigned char>(text[n - back]);
    if ((byte & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    const std::size_t length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
    return length > back ? n - back : n;
  }
  return n;
}

// Where a code fence closes in `text`, scanning lines that begin after `from`: the closing line
// begins after the newline at `at` and its fence run ends at `end`. When it is not there yet,
// `at` is npos. Either way the fence's content is known to reach `inside` (exclusive): up to the
// closing line's newline, or up to the first line not yet decided, where the next search may
// start. Until the answer ends (`at_end`), a line that ends in fence characters is not decided.
// Nothing at or after `inside` may count as the fence's content: it is the close, what follows
// the close, or text that may still turn out to be either.
struct fence_close {
  std::size_t at = npos;
  std::size_t end = 0;
  std::size_t inside = 0;
};

inline fence_close find_fence_close(std::string_view text, std::size_t from, char c,
                                    std::size_t length, bool at_end) {
  for (std::size_t nl = text.find('\n', from); nl != npos; nl = text.find('\n', nl + 1)) {
    std::size_t i = nl + 1;
    while (i < text.size() && is_blank(text[i])) ++i;
    const std::size_t run = run_length(text, i, c);
    // A run that reaches the end may still grow (and a longer run closes the fence in full).
    if (i + run == text.size() && !at_end) return {npos, 0, nl};
    if (run >= length) return {nl, i + run, nl};
  }
  return {npos, 0, text.size()};
}

}  // namespace zai::tools::text
