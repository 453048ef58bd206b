#include "core/stream/message_view.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/stream/message_text.hpp"
#include "stream_test_support.hpp"
#include "core/stream/utf16.hpp"

namespace zai {
namespace {

struct derived {
  std::string reasoning;
  std::string content;
};

derived view_of(std::string_view text, bool final = true, std::size_t hold_back = 0) {
  message_view v(hold_back);
  v.update(text, 0, final);
  return {v.reasoning(), v.content()};
}

std::string content_of(std::string_view text, bool final = true, std::size_t hold_back = 0) {
  return view_of(text, final, hold_back).content;
}

TEST(message_view, plain_answer_is_content) {
  EXPECT_EQ(content_of("Hello! How can I help you today?"), "Hello! How can I help you today?");
}

TEST(message_view, reasoning_block_loses_quotes_and_blank_quoted_lines_become_empty) {
  const auto d = view_of(
      "<details type=\"reasoning\" done=\"true\">\n> The user says hi.\n> \n> I should greet "
      "back.\n</details>\nHi there! How can I help?");
  EXPECT_EQ(d.reasoning, "The user says hi.\n\nI should greet back.");
  EXPECT_EQ(d.content, "Hi there! How can I help?");
}

TEST(message_view, bare_quote_marker_line_is_an_empty_line) {
  EXPECT_EQ(view_of("<details type=\"reasoning\">\n> a\n>\n> b\n</details>").reasoning, "a\n\nb");
}

TEST(message_view, summary_never_leaks_into_reasoning) {
  const auto d = view_of(
      "<details type=\"reasoning\" done=\"true\" duration=\"1\" view=\"\" "
      "last_tool_call_name=\"\">\n<summary>Thought for 1 seconds</summary>\n> 用户在打招呼。\n"
      "</details>\n你好！有什么可以帮你？");
  EXPECT_EQ(d.reasoning, "用户在打招呼。");
  EXPECT_EQ(d.content, "你好！有什么可以帮你？");
}

TEST(message_view, tool_blocks_are_hidden_and_pieces_join_with_one_blank_line) {
  const auto d = view_of(
      "<details type=\"reasoning\" done=\"true\">\n> Need to search.\n</details>\nLet me look "
      "that up.\n\n<glm_block view=\"\" tool_call_name=\"search\">{\"data\":{}}</glm_block>\n\n\n"
      "<details type=\"reasoning\" done=\"true\">\n> Result says sunny.\n</details>\nIt is "
      "sunny.");
  EXPECT_EQ(d.reasoning, "Need to search.\n\nResult says sunny.");
  EXPECT_EQ(d.content, "Let me look that up.\n\nIt is sunny.");
}

TEST(message_view, runs_keep_the_message_order) {
  message_view v(0);
  v.update(
      "<details type=\"reasoning\">\n> r1\n</details>\na1<glm_block>{}</glm_block>"
      "<details type=\"reasoning\">\n> r2\n</details>a2",
      0, true);
  ASSERT_EQ(v.runs().size(), 4u);
  EXPECT_EQ(v.runs()[0].which, channel::reasoning);
  EXPECT_EQ(v.runs()[0].end, 2u);
  EXPECT_EQ(v.runs()[1].which, channel::content);
  EXPECT_EQ(v.runs()[1].end, 2u);
  EXPECT_EQ(v.runs()[2].which, channel::reasoning);
  EXPECT_EQ(v.runs()[2].end, 6u);
  EXPECT_EQ(v.runs()[3].which, channel::content);
  EXPECT_EQ(v.runs()[3].end, 6u);
  EXPECT_EQ(v.reasoning(), "r1\n\nr2");
  EXPECT_EQ(v.content(), "a1\n\na2");
}

TEST(message_view, details_that_are_not_reasoning_stay_in_the_answer) {
  EXPECT_EQ(content_of("See <details><summary>more</summary>x</details> here"),
            "See <details><summary>more</summary>x</details> here");
}

constexpr std::string_view search_block =
    "<glm_block view=\"\" tool_call_name=\"search\">{\"data\":{\"metadata\":{\"search_result\":"
    "[{\"title\":\"GLM-4.7 released\",\"url\":\"https://example.com/glm47\",\"index\":1,"
    "\"ref_id\":\"turn0search0\"},{\"title\":\"t\",\"url\":\"https://example.com/b\","
    "\"ref_id\":\"turn0search1\"}]}},\"type\":\"mcp\"}</glm_block>";

TEST(message_view, known_citation_becomes_a_numbered_link) {
  EXPECT_EQ(content_of(std::string(search_block) + "\nReleased【turn0search0】."),
            "Released[[1]](https://example.com/glm47).");
}

TEST(message_view, citation_without_index_is_numbered_by_position) {
  EXPECT_EQ(content_of(std::string(search_block) + "B【turn0search1】"),
            "B[[2]](https://example.com/b)");
}

TEST(message_view, unknown_citation_is_removed_and_other_brackets_stay) {
  EXPECT_EQ(content_of("A【turn0search9】B【注意】C【turn1news2†L3-L5】D"), "AB【注意】CD");
}

TEST(message_view, citation_before_its_search_block_is_unknown) {
  EXPECT_EQ(content_of("x【turn0search0】" + std::string(search_block)), "x");
}

TEST(message_view, open_reasoning_streams_all_but_the_held_back_tail) {
  const std::string open = "<details type=\"reasoning\" done=\"false\">\n> Thinking about it";
  EXPECT_EQ(view_of(open, false, 0).reasoning, "Thinking about it");
  EXPECT_EQ(view_of(open, false, 5).reasoning, "Thinking abo");
  EXPECT_EQ(view_of(open, true, 5).reasoning, "Thinking about it");
}

TEST(message_view, unfinished_summary_is_withheld_until_it_closes) {
  const std::string open = "<details type=\"reasoning\">\n<summary>Thinking…</sum";
  EXPECT_EQ(view_of(open, false).reasoning, "");
  EXPECT_EQ(view_of(open + "mary>\n> ok", false).reasoning, "ok");
}

TEST(message_view, partial_closing_tag_in_reasoning_is_withheld) {
  EXPECT_EQ(view_of("<details type=\"reasoning\">\n> ok\n</deta", false).reasoning, "ok");
  EXPECT_EQ(view_of("<details type=\"reasoning\">\n> ok <", false).reasoning, "ok");
}

TEST(message_view, partial_block_opener_holds_back_the_answer_before_it) {
  EXPECT_EQ(content_of("Answer <gl", false), "Answer");
  EXPECT_EQ(content_of("Answer <details type=\"reas", false), "Answer");
  EXPECT_EQ(content_of("Answer <glm_block", false), "Answer");
  EXPECT_EQ(content_of("Answer <b>bold</b> <", false), "Answer <b>bold</b>");
  EXPECT_EQ(content_of("Answer <gl", true), "Answer <gl");  // at the end it was just text
}

TEST(message_view, unfinished_tool_block_stays_hidden_even_at_the_end) {
  EXPECT_EQ(content_of("Before\n<glm_block view=\"\">{\"data\":", true), "Before");
  EXPECT_EQ(content_of("Before\n<glm_block view=\"\">{\"data\":", false), "Before");
}

TEST(message_view, partial_citation_is_withheld_until_it_closes) {
  const std::string text = std::string(search_block) + "Released【turn0se";
  EXPECT_EQ(content_of(text, false), "Released");
  EXPECT_EQ(content_of(text + "arch0】 ok", false), "Released[[1]](https://example.com/glm47) ok");
  EXPECT_EQ(content_of("Wait【", false), "Wait");
  EXPECT_EQ(content_of("Wait【注", false), "Wait【注");
}

TEST(message_view, hold_back_counts_characters_not_bytes) {
  EXPECT_EQ(content_of("abc👍你好", false, 2), "abc👍");
  EXPECT_EQ(content_of("abc👍你好", false, 3), "abc");
}

TEST(message_view, whitespace_around_pieces_is_trimmed) {
  EXPECT_EQ(content_of("\n\n  Hello  \n"), "Hello");
  EXPECT_EQ(content_of("\n\n  Hello  \nworld", false), "Hello  \nworld");
  EXPECT_EQ(content_of(" "), "");
}

TEST(message_view, resuming_after_a_block_gives_the_same_result_as_starting_over) {
  const std::string first =
      "<details type=\"reasoning\">\n> r\n</details>\nHello" + std::string(search_block);
  const std::string second = first + "\nWorld【turn0search0】";
  message_view resumed(0);
  resumed.update(first, 0, false);
  resumed.update(second, first.size(), false);
  message_view fresh(0);
  fresh.update(second, 0, false);
  EXPECT_EQ(resumed.reasoning(), fresh.reasoning());
  EXPECT_EQ(resumed.content(), fresh.content());
  EXPECT_EQ(resumed.content(), "Hello\n\nWorld[[1]](https://example.com/glm47)");
  ASSERT_EQ(resumed.runs().size(), fresh.runs().size());
  for (std::size_t i = 0; i < fresh.runs().size(); ++i) {
    EXPECT_EQ(resumed.runs()[i].which, fresh.runs()[i].which);
    EXPECT_EQ(resumed.runs()[i].end, fresh.runs()[i].end);
  }
}

TEST(message_view, an_edit_before_the_last_block_starts_over) {
  message_view v(0);
  v.update("<details type=\"reasoning\">\n> r\n</details>\nHello", 0, false);
  v.update("Plain now", 0, false);
  EXPECT_EQ(v.reasoning(), "");
  EXPECT_EQ(v.content(), "Plain now");
}

}  // namespace
}  // namespace zai

namespace zai {
namespace {

using testing::random_message;

struct view_state {
  std::string reasoning, content;
  std::vector<std::pair<channel, std::size_t>> runs;
  bool operator==(const view_state&) const = default;
};

void PrintTo(const view_state& s, std::ostream* os) {
  *os << "reasoning=" << ::testing::PrintToString(s.reasoning)
      << " content=" << ::testing::PrintToString(s.content) << " runs=" << s.runs.size();
}

view_state state_of(const message_view& v) {
  view_state s{v.reasoning(), v.content(), {}};
  for (const auto& r : v.runs()) s.runs.emplace_back(r.which, r.end);
  return s;
}

TEST(message_view, incremental_updates_match_a_fresh_derivation_and_never_take_back_text) {
  std::mt19937 random(7);
  for (int round = 0; round < 40; ++round) {
    const std::string text = random_message(random);
    for (const std::size_t hold_back : {std::size_t{0}, std::size_t{24}}) {
      message_view incremental(hold_back);
      view_state before;
      std::size_t previous = 0;
      std::uniform_int_distribution<std::size_t> step(1, 40);
      for (std::size_t length = 0; length < text.size();) {
        length = utf8_boundary_at_or_after(text, length + step(random));
        const std::string_view prefix = std::string_view(text).substr(0, length);
        incremental.update(prefix, previous, false);
        previous = length;
        message_view fresh(hold_back);
        fresh.update(prefix, 0, false);
        const view_state now = state_of(incremental);
        ASSERT_EQ(now, state_of(fresh)) << "round " << round << " length " << length;
        ASSERT_TRUE(now.reasoning.starts_with(before.reasoning)) << "round " << round;
        ASSERT_TRUE(now.content.starts_with(before.content)) << "round " << round;
        before = now;
      }
      incremental.update(text, text.size(), true);
      message_view fresh(hold_back);
      fresh.update(text, 0, true);
      ASSERT_EQ(state_of(incremental), state_of(fresh)) << "round " << round << " final";
      ASSERT_TRUE(incremental.reasoning().starts_with(before.reasoning));
      ASSERT_TRUE(incremental.content().starts_with(before.content));
    }
  }
}

TEST(message_view, incremental_updates_match_a_fresh_derivation_under_random_edits) {
  std::mt19937 random(11);
  for (int round = 0; round < 60; ++round) {
    const std::string source = random_message(random);
    message_text text(1 << 20);
    message_view incremental(24);
    std::uniform_int_distribution<std::size_t> step(1, 60);
    std::uniform_int_distribution<int> action(0, 9);
    for (std::size_t taken = 0; taken < source.size();) {
      const std::size_t next = utf8_boundary_at_or_after(source, taken + step(random));
      const std::string_view piece = std::string_view(source).substr(taken, next - taken);
      taken = next;
      const std::size_t units = utf16_length(text.text());
      switch (action(random)) {
        case 0:  // a tail backtrack: rewrite the last few units
          ASSERT_TRUE(
              text.apply(text_mutation::edit, piece, units - std::min(units, step(random) / 8)));
          break;
        case 1:  // an edit anywhere, as when a block is closed or a tool result filled in
          ASSERT_TRUE(text.apply(text_mutation::edit, piece,
                                 std::uniform_int_distribution<std::size_t>(0, units)(random)));
          break;
        default:
          ASSERT_TRUE(text.apply(text_mutation::append, piece, 0));
      }
      incremental.update(text.text(), text.take_unchanged_prefix(), false);
      message_view fresh(24);
      fresh.update(text.text(), 0, false);
      ASSERT_EQ(state_of(incremental), state_of(fresh))
          << "round " << round << " text " << ::testing::PrintToString(text.text());
    }
  }
}

}  // namespace
}  // namespace zai
