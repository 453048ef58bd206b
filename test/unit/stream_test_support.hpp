// Test support shared by the stream pipeline's tests: runs a translator over a body cut into
// given pieces and collects what came out, reads the reference's SSE samples, and makes random
// messages out of the frontend's markup for property tests.
#pragma once

#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream/stream_translator.hpp"

namespace zai::testing {

struct transcript {
  std::vector<stream_output> outputs;
  std::string reasoning;  // all reasoning deltas, concatenated
  std::string content;    // all content deltas, concatenated
  std::optional<token_usage> usage;
  std::optional<finish_reason> finish;
  std::optional<upstream_error> error;
  std::string final_reasoning, final_content;
  std::size_t late_rewrites = 0;

  // The kinds in order, adjacent repeats collapsed: "RCRCUF" (reasoning, content, usage,
  // finished, error E).
  std::string shape() const {
    std::string s;
    for (const auto& o : outputs) {
      static constexpr char letters[] = {'R', 'C', 'U', 'E', 'F'};
      const char letter = letters[static_cast<int>(o.what)];
      if (s.empty() || s.back() != letter) s.push_back(letter);
    }
    return s;
  }
};

inline transcript run_pieces(const std::vector<std::string_view>& pieces,
                             translator_limits limits = {}) {
  stream_translator t(limits);
  transcript r;
  for (auto piece : pieces) t.feed(piece, r.outputs);
  t.finish(r.outputs);
  for (const auto& o : r.outputs) {
    switch (o.what) {
      case stream_output::kind::reasoning:
        r.reasoning += o.text;
        break;
      case stream_output::kind::content:
        r.content += o.text;
        break;
      case stream_output::kind::usage:
        r.usage = o.usage;
        break;
      case stream_output::kind::error:
        r.error = o.error;
        break;
      case stream_output::kind::finished:
        r.finish = o.finish;
        break;
    }
  }
  r.final_reasoning = t.final_reasoning();
  r.final_content = t.final_content();
  r.late_rewrites = t.late_rewrites();
  return r;
}

inline transcript run(std::string_view body, translator_limits limits = {}) {
  return run_pieces({body}, limits);
}

// One `data:` event as the upstream frames it.
inline std::string sse(std::string_view payload) {
  return "data: " + std::string(payload) + "\n\n";
}

inline std::string completion(std::string_view data_fields) {
  return sse("{\"type\":\"chat:completion\",\"data\":{" + std::string(data_fields) + "}}");
}

inline std::string read_sample(int number) {
  const std::string path = std::string(ZAI_SOURCE_DIR) + "/test/fixtures/sse/S" +
                           (number < 10 ? "0" : "") + std::to_string(number) + ".sse";
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A random message built from markup fragments: reasoning blocks, summaries, tool blocks with
// a search result, citations, quotes, partial tags, emoji, CJK and runs long enough to cross
// the derivation's split windows.
inline std::string random_message(std::mt19937& random, int fragments_count = 120) {
  static const std::vector<std::string> fragments = {
      "Hello",
      " ",
      "\n",
      "\n\n",
      "> ",
      ">",
      "word ",
      "a < b ",
      "x>y",
      "👍",
      "你好",
      "。",
      "<details type=\"reasoning\" done=\"false\">\n> ",
      "\n</details>\n",
      "<summary>Thinking…</summary>\n> ",
      "<details>",
      "<det",
      "ails",
      "<",
      "<b>",
      "</b>",
      "<glm_block view=\"\">{\"data\":{\"metadata\":{\"search_result\":[{\"url\":\"https://e.x/"
      "1\",\"ref_id\":\"turn0search0\"}]}}}</glm_block>",
      "【turn0search0】",
      "【turn0search1】",
      "【注意】",
      "【turn",
      "0search0",
      "】",
      std::string(70, 'x'),
      std::string(150, 'y') + ".",
      "\n> more thinking\n> ",
      "</deta"};
  std::uniform_int_distribution<std::size_t> pick(0, fragments.size() - 1);
  std::string text;
  for (int i = 0; i < fragments_count; ++i) text += fragments[pick(random)];
  return text;
}

}  // namespace zai::testing
