#include "core/stream/message_text.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

TEST(message_text, appends_edits_and_replaces_like_the_frontend) {
  message_text m(1024);
  ASSERT_TRUE(m.apply(text_mutation::append, "The answer is 4", 0));
  ASSERT_TRUE(m.apply(text_mutation::append, "2 becau", 0));
  ASSERT_TRUE(m.apply(text_mutation::edit, "cause 6×7=42.", 19));
  EXPECT_EQ(m.text(), "The answer is 42 because 6×7=42.");
  ASSERT_TRUE(m.apply(text_mutation::replace, "new", 0));
  EXPECT_EQ(m.text(), "new");
  ASSERT_TRUE(m.apply(text_mutation::none, "ignored", 0));
  EXPECT_EQ(m.text(), "new");
}

TEST(message_text, edit_index_counts_utf16_units_of_an_emoji) {
  message_text m(1024);
  ASSERT_TRUE(m.apply(text_mutation::append, "Ok 👍 do", 0));
  ASSERT_TRUE(m.apply(text_mutation::edit, "one.", 6));
  EXPECT_EQ(m.text(), "Ok 👍 one.");
}

TEST(message_text, edit_index_counts_cjk_as_one_unit_each) {
  message_text m(1024);
  ASSERT_TRUE(m.apply(text_mutation::append, "用户在打招呼", 0));
  ASSERT_TRUE(m.apply(text_mutation::edit, "说你好", 2));
  EXPECT_EQ(m.text(), "用户说你好");
}

TEST(message_text, edit_index_past_the_end_appends) {
  message_text m(1024);
  ASSERT_TRUE(m.apply(text_mutation::append, "abc", 0));
  ASSERT_TRUE(m.apply(text_mutation::edit, "d", 99));
  EXPECT_EQ(m.text(), "abcd");
}

TEST(message_text, edit_inside_a_surrogate_pair_replaces_the_whole_emoji) {
  message_text m(1024);
  ASSERT_TRUE(m.apply(text_mutation::append, "a👍b", 0));
  ASSERT_TRUE(m.apply(text_mutation::edit, "X", 2));
  EXPECT_EQ(m.text(), "aX");
}

TEST(message_text, refuses_to_grow_past_its_bound_and_keeps_the_text) {
  message_text m(8);
  ASSERT_TRUE(m.apply(text_mutation::append, "12345678", 0));
  EXPECT_FALSE(m.apply(text_mutation::append, "9", 0));
  EXPECT_FALSE(m.apply(text_mutation::replace, "123456789", 0));
  EXPECT_FALSE(m.apply(text_mutation::edit, "abcdefghi", 0));
  EXPECT_EQ(m.text(), "12345678");
  EXPECT_TRUE(m.apply(text_mutation::edit, "xy", 6));  // shrinking edits still fit
  EXPECT_EQ(m.text(), "123456xy");
}

TEST(message_text, unchanged_prefix_tracks_the_lowest_change) {
  message_text m(1024);
  ASSERT_TRUE(m.apply(text_mutation::append, "hello world", 0));
  EXPECT_EQ(m.take_unchanged_prefix(), 0u);
  ASSERT_TRUE(m.apply(text_mutation::append, "!", 0));
  EXPECT_EQ(m.take_unchanged_prefix(), 11u);
  ASSERT_TRUE(m.apply(text_mutation::edit, "w0rld!", 6));  // rewrites from index 6, same 'w'
  ASSERT_TRUE(m.apply(text_mutation::append, "?", 0));
  EXPECT_EQ(m.take_unchanged_prefix(), 7u);
  ASSERT_TRUE(m.apply(text_mutation::replace, "help", 0));
  EXPECT_EQ(m.take_unchanged_prefix(), 3u);
  EXPECT_EQ(m.take_unchanged_prefix(), 4u);
}

}  // namespace
}  // namespace zai
