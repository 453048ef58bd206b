#include "core/zai/markup.hpp"

#include <gtest/gtest.h>

namespace zai::markup {
namespace {

constexpr auto npos = std::string_view::npos;

TEST(zai_markup, finds_reasoning_and_tool_blocks) {
  const std::string_view text = "hi <details type=\"reasoning\" done=\"false\">\n> x";
  const auto r = find_block(text, 0);
  EXPECT_EQ(r.what, block::reasoning);
  EXPECT_EQ(r.at, 3u);
  EXPECT_EQ(text.substr(r.body), "\n> x");

  const auto t = find_block("a<glm_block view=\"\">{}</glm_block>", 0);
  EXPECT_EQ(t.what, block::tool);
  EXPECT_EQ(t.at, 1u);
  EXPECT_EQ(t.body, 20u);
}

TEST(zai_markup, other_tags_are_text_and_partial_openers_are_pending) {
  EXPECT_EQ(find_block("a <b>c</b> <details open>x</details>", 0).what, block::none);
  EXPECT_EQ(find_block("a <glm_blocks>", 0).what, block::none);
  EXPECT_EQ(find_block("a <glm_bl", 0).what, block::pending);
  EXPECT_EQ(find_block("a <details", 0).what, block::pending);
  EXPECT_EQ(find_block("a <details type=\"reas", 0).what, block::pending);
  EXPECT_EQ(find_block("a <", 0).at, 2u);
}

TEST(zai_markup, reasoning_unquotes_lines_and_drops_only_a_leading_summary) {
  EXPECT_EQ(clean_reasoning("\n<summary>Thinking…</summary>\n> a\n> \n>b", false, true),
            "\na\n\nb");  // whitespace before the summary goes with it
  EXPECT_EQ(clean_reasoning("\n> see <summary>s</summary>", false, true),
            "\nsee <summary>s</summary>");
  // Resumed mid-line: a '>' there is text, not a quote marker.
  EXPECT_EQ(clean_reasoning("> b\n> c", false, false), "> b\nc");
}

TEST(zai_markup, reasoning_withholds_what_may_still_become_markup) {
  EXPECT_EQ(clean_reasoning("\n<summ", true, true), "");
  EXPECT_EQ(clean_reasoning("\n<summary>Think", true, true), "");
  EXPECT_EQ(clean_reasoning("\n> ok\n</det", true, true), "\nok\n");
  EXPECT_EQ(clean_reasoning("\n<summary>Think", false, true), "\n<summary>Think");
}

TEST(zai_markup, collects_search_results_at_any_shallow_depth) {
  std::vector<citation> known;
  collect_citations(
      R"({"search_result":[{"url":"u1","ref_id":"r1","index":4},{"url":"u2","ref_id":"r2"},)"
      R"({"ref_id":"no-url"},7]})",
      known);
  collect_citations("not json", known);
  ASSERT_EQ(known.size(), 2u);
  EXPECT_EQ(known[0].number, 4u);
  EXPECT_EQ(known[1].number, 2u);
  EXPECT_EQ(known[1].url, "u2");
}

TEST(zai_markup, trims_ascii_whitespace) {
  EXPECT_EQ(trim(" \t\na b\r\n"), "a b");
  EXPECT_EQ(trim_end("  a b \n"), "  a b");
  EXPECT_EQ(trim("\n\n"), "");
  EXPECT_EQ(trim_end(" "), "");
}

TEST(zai_markup, answer_split_lies_after_visible_text) {
  const std::string text = "Hello world, this is text.  \n";
  EXPECT_EQ(answer_split(text, 0, text.size()), text.find('.') + 1);
  EXPECT_EQ(answer_split("   \n", 0, 4), npos);
}

TEST(zai_markup, answer_split_avoids_unfinished_markup) {
  const std::string citation = "See this【turn0se";
  EXPECT_EQ(answer_split(citation, 0, citation.size()), std::string("See this").size());
  const std::string closed = "See that【turn0search0】";
  EXPECT_EQ(answer_split(closed, 0, closed.size()), std::string("See that").size());
  const std::string tag = "Look <details class=\"x";
  EXPECT_EQ(answer_split(tag, 0, tag.size()), 4u);
  const std::string html = "a <b>bold</b> text";
  EXPECT_EQ(answer_split(html, 0, html.size()), html.size());
}

TEST(zai_markup, reasoning_split_waits_for_a_leading_summary_to_close) {
  const std::string open = "\n<summary>Thinking about a long question";
  EXPECT_EQ(reasoning_split(open, 0, open.size(), true), npos);
  const std::string closed = "\n<summary>Thinking…</summary>\n> Some thought here\n> ";
  EXPECT_EQ(reasoning_split(closed, 0, closed.size(), true), closed.find("here") + 4);
  EXPECT_EQ(reasoning_split("\n> x </deta", 0, 11, true), 4u);
}

}  // namespace
}  // namespace zai::markup
