// The markup chat.z.ai's frontend renders inside a message (reference §4.4, §4.6, §4.7), as
// small pure functions over UTF-8 text: where the next reasoning (`<details type="reasoning">`)
// or tool (`<glm_block>`) block starts, how a reasoning body reads as plain text (leading
// `<summary>` dropped, `> ` quoting undone), how answer text reads (`【turn0search0】` citations
// linked or dropped), and where text can safely be split for incremental derivation. Every
// function that takes `uncertain_end` leaves out a tail that may still grow into markup.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zai::markup {

inline constexpr std::string_view details_close = "</details>";
inline constexpr std::string_view tool_close = "</glm_block>";

std::string_view trim(std::string_view s);
std::string_view trim_end(std::string_view s);

enum class block { none, pending, reasoning, tool };

struct block_start {
  block what = block::none;
  std::size_t at = std::string_view::npos;    // where the opener begins
  std::size_t body = std::string_view::npos;  // just after the opener's '>' (npos: not yet)
};

// The next reasoning or tool block at or after `pos`. `pending`: the text ends in what may
// become an opener, so the answer before it is not certain yet. A `<details>` that is not
// type="reasoning" is ordinary answer text.
block_start find_block(std::string_view text, std::size_t pos);

struct citation {
  std::string ref_id;  // e.g. turn0search0
  std::string url;
  std::size_t number = 0;  // the search result's `index`, else its position (1-based)
};

// Appends the search results a tool block's JSON body lists (`search_result` items with
// `ref_id` and `url`, at any shallow depth) to `known`.
void collect_citations(std::string_view block_body, std::vector<citation>& known);

// Answer text with citation markers rewritten to `[[n]](url)` (known) or removed (unknown).
std::string clean_answer(std::string_view piece, const std::vector<citation>& known,
                         bool uncertain_end);

// A reasoning body as plain text: `> ` / `>` quote markers at line starts removed and, when
// `at_block_start`, a leading `<summary>…</summary>` dropped. Not trimmed.
std::string clean_reasoning(std::string_view body, bool uncertain_end, bool at_block_start);

// A position in [begin, end) where derivation can be split and resumed: cleaning [begin, x)
// and [x, end) separately gives the same text as cleaning [begin, end), and the first part ends
// in a visible character. npos if none is found near `end`. For reasoning that starts at the
// block's start, the split also lies after a leading summary.
std::size_t answer_split(std::string_view text, std::size_t begin, std::size_t end);
std::size_t reasoning_split(std::string_view text, std::size_t begin, std::size_t end,
                            bool at_block_start);

}  // namespace zai::markup
