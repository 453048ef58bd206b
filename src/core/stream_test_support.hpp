// Test support shared by the stream translator's tests: runs a translator over a body cut into
// given pieces and collects what came out, and reads the reference's SSE samples.
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream_translator.hpp"

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

}  // namespace zai::testing
