// Every entry of the tool-call corpus (test/tool-corpus/) replayed whole, in two pieces at every
// byte split, and byte by byte: each run must give the entry's expected content and calls, and
// obey the parser's event contract. Event-stream entries are cut in their SSE bytes, so the
// translator's hold-back and the parser's are exercised together.
#include "tool_corpus.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

using testing::corpus_entry;
using testing::describe;
using testing::parsed_answer;

class tool_corpus : public ::testing::TestWithParam<corpus_entry> {};

void expect_same(const parsed_answer& got, const parsed_answer& expected, std::string_view how) {
  EXPECT_EQ(got.problem, "") << how;
  EXPECT_TRUE(testing::same_answer(got, expected)) << how << "\nexpected:\n"
                                                   << describe(expected) << "got:\n"
                                                   << describe(got);
}

// A known gap is held to splitting consistently, and must still be a gap: when the parser
// learns to read it, the entry loses its `known:` line.
TEST_P(tool_corpus, parses_as_expected_at_every_split) {
  const corpus_entry& e = GetParam();
  const chat_request request = testing::corpus_request(e);
  ASSERT_FALSE(request.tools.empty()) << "unknown tools: " << e.tools;
  const parsed_answer whole = testing::run_corpus_entry(e, request, {});
  const parsed_answer expected =
      e.known_gap.empty() ? testing::corpus_expectation(e, request) : whole;
  expect_same(whole, expected, "whole");
  if (!e.known_gap.empty()) {
    EXPECT_FALSE(testing::same_answer(whole, testing::corpus_expectation(e, request)))
        << "the known gap is closed: remove `known:` from " << e.name;
  }
  std::vector<std::size_t> every;
  for (std::size_t cut = 1; cut < e.input.size(); ++cut) {
    const parsed_answer two = testing::run_corpus_entry(e, request, {cut});
    if (!testing::same_answer(two, expected) || !two.problem.empty()) {
      expect_same(two, expected, "cut at byte " + std::to_string(cut));
      break;
    }
    every.push_back(cut);
  }
  expect_same(testing::run_corpus_entry(e, request, every), expected, "byte by byte");
}

INSTANTIATE_TEST_SUITE_P(entries, tool_corpus, ::testing::ValuesIn(testing::load_tool_corpus()),
                         [](const ::testing::TestParamInfo<corpus_entry>& info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(tool_corpus_size, has_at_least_forty_entries_of_each_kind) {
  const std::vector<corpus_entry> entries = testing::load_tool_corpus();
  EXPECT_GE(entries.size(), 40u);
  const auto count = [&](auto pred) { return std::count_if(entries.begin(), entries.end(), pred); };
  EXPECT_GE(count([](const corpus_entry& e) { return e.events; }), 5);
  EXPECT_GE(count([](const corpus_entry& e) { return e.calls.empty(); }), 10);    // look-alikes
  EXPECT_GE(count([](const corpus_entry& e) { return e.calls.size() > 1; }), 5);  // parallel
}

}  // namespace
}  // namespace zai
