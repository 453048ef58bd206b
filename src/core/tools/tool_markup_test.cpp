#include "core/tools/tool_markup.hpp"

#include <gtest/gtest.h>

namespace zai::tools {
namespace {

using verdict = tag_match::verdict;

constexpr tag_set every = {tag::call_open, tag::call_close, tag::key_open,
                           tag::key_close, tag::value_open, tag::value_close};

// A text, the tag it begins with, and that tag's length.
using tag_case = std::tuple<std::string_view, tag, std::size_t>;

template <std::size_t N>
void expect_tags(const tag_case (&cases)[N]) {
  for (const auto& [text, what, length] : cases) {
    const tag_match m = match_tag(text, every, false);
    EXPECT_EQ(m.is, verdict::yes) << text;
    EXPECT_EQ(m.what, what) << text;
    EXPECT_EQ(m.length, length) << text;
  }
}

TEST(tool_markup, contract_and_trained_tags) {
  const tag_case cases[] = {
      {"<tool_call>x", tag::call_open, 11},
      {"</tool_call>x", tag::call_close, 12},
      {"<arg_key>x", tag::key_open, 9},
      {"</arg_key>x", tag::key_close, 10},
      {"<arg_value>x", tag::value_open, 11},
      {"</arg_value>x", tag::value_close, 12},
      {"<tool_call nonce=\"k3x9\">x", tag::call_open, 24},
  };
  expect_tags(cases);
}

TEST(tool_markup, drifted_brackets_and_spellings) {
  const tag_case cases[] = {
      {"<<tool_call>>x", tag::call_open, 13},     {"<tool_call>>>x", tag::call_open, 13},
      {"<|tool_call|>x", tag::call_open, 13},     {"<TOOL_CALL>x", tag::call_open, 11},
      {"<tool-call>x", tag::call_open, 11},       {"<toolcall>x", tag::call_open, 10},
      {"<tool_calls>x", tag::call_open, 12},      {"<function_call>x", tag::call_open, 15},
      {"<tool_use>x", tag::call_open, 10},        {"<</tool_call>>x", tag::call_close, 14},
      {"</tool_call/>x", tag::call_close, 13},    {"<arg-key>x", tag::key_open, 9},
      {"<argument_value>x", tag::value_open, 16}, {"</arg_val>x", tag::value_close, 10},
  };
  expect_tags(cases);
}

TEST(tool_markup, ordinary_markup_is_no_tag) {
  for (std::string_view text :
       {"<div>", "<table>", "< tool_call>", "<tool_callback>", "<tool>", "<<<<<tool_call>",
        "<tool_call\n>", "<br/>", "<3 you", "<tool_callx>"}) {
    EXPECT_EQ(match_tag(text, every, false).is, verdict::no) << text;
  }
}

TEST(tool_markup, only_wanted_tags_are_recognised) {
  EXPECT_EQ(match_tag("</tool_call>", {tag::call_open}, false).is, verdict::no);
  EXPECT_EQ(match_tag("<arg_key>", {tag::value_close}, false).is, verdict::no);
  // A closing tag's beginning cannot become an opening one.
  EXPECT_EQ(match_tag("</", {tag::call_open}, false).is, verdict::no);
}

TEST(tool_markup, undecided_only_while_a_wanted_tag_may_still_come) {
  for (std::string_view text : {"<", "<<", "<|", "<t", "<tool_", "<TOOL_CA", "<tool_call",
                                "<tool_call nonce=\"ab", "<tool_call>", "</arg_v"}) {
    EXPECT_EQ(match_tag(text, every, false).is, verdict::maybe) << text;
  }
  EXPECT_EQ(match_tag("<ta", every, false).is, verdict::no);
  EXPECT_EQ(match_tag("<tool_call", every, true).is, verdict::no);  // the answer ended
  EXPECT_EQ(match_tag("<tool_call>", every, true).is, verdict::yes);
}

TEST(tool_markup, the_opening_tag_carries_nonce_and_name_attributes) {
  EXPECT_EQ(match_tag("<tool_call nonce=\"k3x9\">", every, true).nonce, "k3x9");
  EXPECT_EQ(match_tag("<tool_call nonce='k3x9'>", every, true).nonce, "k3x9");
  EXPECT_EQ(match_tag("<tool_call nonce=k3x9>", every, true).nonce, "k3x9");
  EXPECT_EQ(match_tag("<tool_call>", every, true).nonce, std::nullopt);
  const tag_match named = match_tag("<tool_call name=\"read_file\" nonce=\"a\">", every, true);
  EXPECT_EQ(named.name, "read_file");
  EXPECT_EQ(named.nonce, "a");
}

}  // namespace
}  // namespace zai::tools
