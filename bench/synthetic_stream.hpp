// A long upstream stream shaped like a real one — a reasoning block built by deltas, closed by
// the edit at index 32 that also starts the answer, answer deltas with periodic tail rewrites,
// usage, done — with every edit index consistent with the text (ASCII, so UTF-16 units equal
// bytes). Used by the micro benchmarks and by the fake-upstream load tests' expectations.
#pragma once

#include <string>

namespace zai::bench {

struct synthetic_stream {
  std::string sse;  // the whole body
  int events = 0;
};

inline synthetic_stream make_synthetic_stream(int reasoning_events, int answer_events) {
  synthetic_stream out;
  std::string text;
  auto event = [&](const std::string& data) {
    out.sse += "data: {\"type\":\"chat:completion\",\"data\":{" + data + "}}\n\n";
    ++out.events;
  };
  auto delta = [&](const std::string& piece, const char* phase) {
    text += piece;
    event("\"delta_content\":\"" + piece + "\",\"phase\":\"" + phase + "\"");
  };
  auto edit = [&](std::size_t index, const std::string& piece, const char* phase) {
    text = text.substr(0, index) + piece;
    event("\"edit_index\":" + std::to_string(index) + ",\"edit_content\":\"" + piece +
          "\",\"phase\":\"" + phase + "\"");
  };

  const std::string opener = "<details type=\\\"reasoning\\\" done=\\\"false\\\">\\n> ";
  text = "<details type=\"reasoning\" done=\"false\">\n> ";
  event("\"delta_content\":\"" + opener + "\",\"phase\":\"thinking\"");
  std::string reasoning;
  for (int i = 0; i < reasoning_events; ++i) {
    const std::string piece = (i % 40 == 39) ? "\\n> step " + std::to_string(i)
                                             : " thought" + std::to_string(i);
    reasoning += (i % 40 == 39) ? "\n> step " + std::to_string(i) : " thought" + std::to_string(i);
    text += (i % 40 == 39) ? "\n> step " + std::to_string(i) : " thought" + std::to_string(i);
    event("\"delta_content\":\"" + piece + "\",\"phase\":\"thinking\"");
  }
  // Close the block: rewrite from just after done=" (index 32) and start the answer.
  std::string escaped_body;
  for (char c : reasoning) escaped_body += c == '\n' ? std::string("\\n") : std::string(1, c);
  const std::string close = "true\\\">\\n>" + escaped_body + "\\n</details>\\nAnswer:";
  text = text.substr(0, 32) + "true\">\n>" + reasoning + "\n</details>\nAnswer:";
  event("\"edit_index\":32,\"edit_content\":\"" + close + "\",\"phase\":\"answer\"");
  for (int i = 0; i < answer_events; ++i) {
    if (i % 50 == 49) {
      // A tail backtrack: rewrite the last three characters with themselves.
      const std::size_t at = text.size() - 3;
      edit(at, text.substr(at), "answer");
    } else {
      delta(" word" + std::to_string(i), "answer");
    }
  }
  event(
      "\"phase\":\"other\",\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":2000,"
      "\"total_tokens\":2100}");
  event("\"phase\":\"done\",\"done\":true");
  out.sse += "data: [DONE]\n\n";
  return out;
}

}  // namespace zai::bench
