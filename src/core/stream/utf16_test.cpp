#include "core/stream/utf16.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

// "Ok 👍 do": 👍 is U+1F44D, four UTF-8 bytes and a UTF-16 surrogate pair.
constexpr std::string_view thumbs = "Ok \xF0\x9F\x91\x8D do";

TEST(utf16, counts_ascii_cjk_and_emoji_like_javascript) {
  EXPECT_EQ(utf16_length(""), 0u);
  EXPECT_EQ(utf16_length("hello"), 5u);
  EXPECT_EQ(utf16_length("用户在打招呼。"), 7u);
  EXPECT_EQ(utf16_length(thumbs), 8u);
  EXPECT_EQ(utf16_length("Thinking…"), 9u);
  EXPECT_EQ(utf16_length("24°C"), 4u);
}

TEST(utf16, maps_index_after_emoji_to_byte_offset) {
  EXPECT_EQ(utf8_offset_of_utf16(thumbs, 3), 3u);  // before the emoji
  EXPECT_EQ(utf8_offset_of_utf16(thumbs, 5), 7u);  // after the emoji
  EXPECT_EQ(utf8_offset_of_utf16(thumbs, 6), 8u);  // after the space: where S14 edits
  EXPECT_EQ(thumbs.substr(0, utf8_offset_of_utf16(thumbs, 6)), "Ok \xF0\x9F\x91\x8D ");
}

TEST(utf16, maps_cjk_index_to_character_start) {
  const std::string_view text = "用户在打招呼。";
  EXPECT_EQ(utf8_offset_of_utf16(text, 2), 6u);
  EXPECT_EQ(text.substr(0, utf8_offset_of_utf16(text, 2)), "用户");
}

TEST(utf16, index_inside_surrogate_pair_rounds_down_to_the_emoji_start) {
  EXPECT_EQ(utf8_offset_of_utf16(thumbs, 4), 3u);
}

TEST(utf16, index_past_the_end_clamps_to_the_length) {
  EXPECT_EQ(utf8_offset_of_utf16(thumbs, 9), thumbs.size());
  EXPECT_EQ(utf8_offset_of_utf16(thumbs, 1'000'000), thumbs.size());
  EXPECT_EQ(utf8_offset_of_utf16("", 3), 0u);
}

TEST(utf16, invalid_bytes_count_as_one_replacement_character_each_maximal_subpart) {
  // 0xFF is never valid; E2 82 is a truncated three-byte sequence (one maximal subpart).
  const std::string_view bad = "x\xFF\xE2\x82y";
  EXPECT_EQ(utf16_length(bad), 4u);
  EXPECT_EQ(utf8_offset_of_utf16(bad, 2), 2u);
  EXPECT_EQ(utf8_offset_of_utf16(bad, 3), 4u);
  EXPECT_EQ(utf16_length("\xF0\x9F"), 1u);      // truncated emoji at the end
  EXPECT_EQ(utf16_length("\xED\xA0\x80"), 3u);  // an encoded surrogate is three errors
}

TEST(utf16, repair_replaces_invalid_sequences_like_text_decoder) {
  EXPECT_EQ(repair_utf8("x\xFF\xE2\x82y"), "x\xEF\xBF\xBD\xEF\xBF\xBDy");
  EXPECT_EQ(repair_utf8(thumbs), thumbs);
  EXPECT_EQ(repair_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_TRUE(is_valid_utf8(repair_utf8("\xF0\x9F\x91")));
  EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x91"));
}

TEST(utf16, last_chars_offset_never_splits_a_character) {
  EXPECT_EQ(utf8_offset_of_last_chars(thumbs, 3), 7u);
  EXPECT_EQ(utf8_offset_of_last_chars(thumbs, 4), 3u);
  EXPECT_EQ(utf8_offset_of_last_chars(thumbs, 0), thumbs.size());
  EXPECT_EQ(utf8_offset_of_last_chars(thumbs, 100), 0u);
  EXPECT_EQ(utf8_offset_of_last_chars("\x80\x80\x80\x80\x80", 1), 1u);  // garbage: no underflow
  // An ASCII tail (read eight bytes at a time) next to longer characters.
  const std::string mixed = "\xC3\xA9" + std::string(20, 'a');
  EXPECT_EQ(utf8_offset_of_last_chars(mixed, 20), 2u);
  EXPECT_EQ(utf8_offset_of_last_chars(mixed, 21), 0u);
  EXPECT_EQ(utf8_offset_of_last_chars(mixed, 9), 13u);
  EXPECT_EQ(utf8_offset_of_last_chars(mixed + "\xC3\xA9", 2), 21u);
  EXPECT_EQ(utf8_offset_of_last_chars("", 0), 0u);
}

TEST(utf16, boundary_at_or_after_skips_continuation_bytes) {
  EXPECT_EQ(utf8_boundary_at_or_after(thumbs, 4), 7u);
  EXPECT_EQ(utf8_boundary_at_or_after(thumbs, 3), 3u);
  EXPECT_EQ(utf8_boundary_at_or_after(thumbs, 99), thumbs.size());
}

}  // namespace
}  // namespace zai
