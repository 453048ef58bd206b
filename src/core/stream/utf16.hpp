// UTF-16 arithmetic over UTF-8 text. Z.AI's `edit_index` counts UTF-16 code units, because the
// web frontend applies edits with JavaScript's `substring` (reference §4.3), while we keep the
// message as UTF-8. These helpers translate between the two without ever cutting a character in
// half, and repair invalid UTF-8 the way a browser's TextDecoder does, so that counts agree with
// what the frontend would see.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zai {

// Code units a JavaScript string holding this text would have: 1 per BMP code point, 2 per
// astral one (emoji). Each invalid UTF-8 sequence counts as the 1 unit of the U+FFFD a
// TextDecoder would put in its place.
std::size_t utf16_length(std::string_view utf8);

// Byte offset of UTF-16 index `index` in `utf8`, clamped to the end like JavaScript's
// `substring`. An index inside a character (the middle of a surrogate pair, i.e. of a 4-byte
// sequence) rounds down to that character's first byte: an edit there replaces the whole
// character rather than keeping half of it. The result is always a character boundary.
std::size_t utf8_offset_of_utf16(std::string_view utf8, std::size_t index);

// Byte offset where the last `count` characters of `utf8` begin (0 if there are fewer).
std::size_t utf8_offset_of_last_chars(std::string_view utf8, std::size_t count);

// Smallest character boundary at or after `offset` (clamped to the size).
std::size_t utf8_boundary_at_or_after(std::string_view utf8, std::size_t offset);

bool is_valid_utf8(std::string_view bytes);

// Appends `code_point` (at most U+10FFFF, not a surrogate) encoded as UTF-8.
void append_utf8(std::string& out, std::uint32_t code_point);

// Replaces every invalid sequence by U+FFFD using the WHATWG decoder's "maximal subpart" rule,
// exactly as the browser decoding the upstream stream would.
std::string repair_utf8(std::string_view bytes);

}  // namespace zai
