// The tool-call corpus (test/tool-corpus/*.txt): realistic model answers and what a client must
// receive from each. An entry is a text file:
//
//   # What the entry proves (one line).
//   tools: read_file bash          the catalogue's tools the request offers (tools.json)
//   choice: auto                   optional: auto | none | required | a tool's name
//   parallel: false                optional (default true)
//   known: why it is still missed  optional: a known gap; the expectation says what a client
//                                  should get, which the parser does not deliver yet
//   %% answer                      the answer text as the model wrote it…
//   …
//   %% events                      …or instead the upstream's SSE body (delta_content,
//   …                              edit_content, reasoning), run through the stream translator
//   %% content                     optional: the content the client receives (default empty)
//   …
//   %% call read_file              each call the client receives, in order: a function's
//   {"path": "a.txt"}              arguments as JSON (compared as values), a custom tool's input
//
// A section is the lines up to the next `%% ` line, without the newline that ends its last line.
// All entries use the nonce n7Kq2xZ4. Loaded by the corpus replay test and by tool_eval.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/stream/stream_translator.hpp"
#include "tool_test_support.hpp"

namespace zai::testing {

inline constexpr std::string_view corpus_nonce = "n7Kq2xZ4";

struct corpus_entry {
  std::string name;  // the file's stem
  std::string title;
  std::string tools;
  std::string choice = "auto";
  bool parallel = true;
  std::string known_gap;  // non-empty: the parser is known to miss this entry, and why
  bool events = false;    // `input` is an upstream SSE body, not answer text
  std::string input;
  std::string content;
  std::vector<tool_call> calls;  // expected; kind filled from the catalogue when parsed
};

// Sections of an entry: header lines, then `%% name` sections.
inline corpus_entry parse_corpus_entry(std::string name, std::string_view text) {
  corpus_entry e;
  e.name = std::move(name);
  std::string* section = nullptr;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.starts_with("%% ")) {
      const std::string_view head = line.substr(3);
      if (head == "answer" || head == "events") {
        e.events = head == "events";
        section = &e.input;
      } else if (head == "content") {
        section = &e.content;
      } else if (head.starts_with("call ")) {
        e.calls.push_back({"", std::string(head.substr(5)), "", tool_kind::function});
        section = &e.calls.back().arguments;
      }
      continue;
    }
    if (section != nullptr) {
      section->append(line).append("\n");
    } else if (line.starts_with("# ")) {
      e.title = std::string(line.substr(2));
    } else if (line.starts_with("tools: ")) {
      e.tools = std::string(line.substr(7));
    } else if (line.starts_with("choice: ")) {
      e.choice = std::string(line.substr(8));
    } else if (line.starts_with("known: ")) {
      e.known_gap = std::string(line.substr(7));
    } else if (line == "parallel: false") {
      e.parallel = false;
    }
  }
  // Each section's last line ended with the newline that separates it from the next header.
  for (std::string* s : {&e.input, &e.content}) {
    if (s->ends_with('\n')) s->pop_back();
  }
  for (tool_call& c : e.calls) {
    if (c.arguments.ends_with('\n')) c.arguments.pop_back();
  }
  return e;
}

inline std::vector<corpus_entry> load_tool_corpus() {
  std::vector<corpus_entry> entries;
  for (const auto& file : std::filesystem::directory_iterator(source_path("test/tool-corpus"))) {
    if (file.path().extension() != ".txt") continue;
    entries.push_back(
        parse_corpus_entry(file.path().stem().string(), read_text_file(file.path().string())));
  }
  std::sort(entries.begin(), entries.end(),
            [](const corpus_entry& a, const corpus_entry& b) { return a.name < b.name; });
  return entries;
}

inline chat_request corpus_request(const corpus_entry& e) {
  std::string extra = e.parallel ? "" : R"("parallel_tool_calls":false)";
  if (e.choice != "auto") {
    if (!extra.empty()) extra += ",";
    const bool mode = e.choice == "none" || e.choice == "required";
    extra += mode ? R"("tool_choice":")" + e.choice + "\""
                  : R"("tool_choice":{"type":"function","function":{"name":")" + e.choice + "\"}}";
  }
  return tool_request(e.tools, extra);
}

// The expected answer, with each call's kind as the catalogue declares it.
inline parsed_answer corpus_expectation(const corpus_entry& e, const chat_request& request) {
  parsed_answer a;
  a.content = e.content;
  a.calls = e.calls;
  for (tool_call& c : a.calls) {
    for (const tool_definition& t : request.tools) {
      if (t.name == c.name) c.kind = t.kind;
    }
  }
  return a;
}

// Runs an entry with its input cut at `cuts` (ascending byte offsets): answer text straight into
// the parser; an SSE body through the stream translator, whose content deltas feed the parser
// as they come (reasoning is the flow's to pass through, never parsed).
inline parsed_answer run_corpus_entry(const corpus_entry& e, const chat_request& request,
                                      const std::vector<std::size_t>& cuts) {
  std::vector<std::string_view> pieces;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    pieces.push_back(std::string_view(e.input).substr(from, cut - from));
    from = cut;
  }
  pieces.push_back(std::string_view(e.input).substr(from));
  if (!e.events) return parse_pieces(request, corpus_nonce, pieces);

  stream_translator translator;
  tool_call_parser parser(request, std::string(corpus_nonce));
  std::vector<answer_event> events;
  std::vector<stream_output> outputs;
  const auto drain = [&] {
    for (const stream_output& o : outputs) {
      if (o.what == stream_output::kind::content) parser.feed(o.text, events);
    }
    outputs.clear();
  };
  for (std::string_view piece : pieces) {
    translator.feed(piece, outputs);
    drain();
  }
  translator.finish(outputs);
  drain();
  parser.finish(events);
  return collect(std::move(events));
}

}  // namespace zai::testing
