// tool_eval: how well the tool-call parser reads realistic model answers. Runs every entry of
// the corpus (test/tool-corpus/, format in test/unit/tool_corpus.hpp) as a non-streamed answer
// (whole) and as a stream (byte by byte), prints a verdict per entry and the share parsed
// exactly right: the content and every call (name, arguments as JSON values) as expected, both
// ways. `make tool-eval` builds and runs it; the README publishes the share.
#include <cstdio>

#include "tool_corpus.hpp"

int main() {
  using namespace zai::testing;
  const std::vector<corpus_entry> entries = load_tool_corpus();
  std::size_t exact = 0;
  for (const corpus_entry& e : entries) {
    const zai::chat_request request = corpus_request(e);
    const parsed_answer expected = corpus_expectation(e, request);
    const parsed_answer whole = run_corpus_entry(e, request, {});
    std::vector<std::size_t> every;
    for (std::size_t cut = 1; cut < e.input.size(); ++cut) every.push_back(cut);
    const parsed_answer streamed = run_corpus_entry(e, request, every);
    const bool right = whole.problem.empty() && streamed.problem.empty() &&
                       same_answer(whole, expected) && same_answer(streamed, expected);
    exact += right ? 1 : 0;
    std::printf("%s  %-36s %s\n", right ? "exact" : "MISS ", e.name.c_str(), e.title.c_str());
    if (right) continue;
    if (!e.known_gap.empty()) std::printf("       known gap: %s\n", e.known_gap.c_str());
    std::printf("       expected:\n%s       got:\n%s", describe(expected).c_str(),
                describe(same_answer(whole, expected) ? streamed : whole).c_str());
  }
  const double share = entries.empty() ? 0 : 100.0 * double(exact) / double(entries.size());
  std::printf("\ntool_eval: %zu of %zu corpus entries parsed exactly right (%.1f%%)\n", exact,
              entries.size(), share);
  return entries.empty() ? 1 : 0;
}
