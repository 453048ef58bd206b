// The tool-call parser on arbitrary answer text: the markup lexer, loose JSON, name snapping,
// schema coercion and the parser's state machine, under every tool_choice.
//
// Input: the layout of fuzz_support.hpp's cut_input, the body being the answer; the options
// byte's bits 0-1 pick tool_choice auto, none, required or named, bit 2 turns parallel calls
// off, bit 3 drops the nonce.
// The answer is made valid UTF-8 first, as the stream translator's text always is. What must
// hold:
//   - the events follow the parser's contract: content is non-empty valid UTF-8 and never inside
//     a call; a call starts (with the next index, a declared and allowed tool, no id), gets
//     argument fragments, and ends; no finish or error; calls() counts the starts;
//   - each function call's arguments concatenate to one JSON object; a custom tool's input is
//     valid UTF-8;
//   - no call when tool_choice is none, at most one when parallel calls are off, only the named
//     tool when one is named;
//   - the same content and calls (to the byte) whatever the cut;
//   - text without '<' or a fence character is passed through unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream/utf16.hpp"
#include "core/tools/tool_parser.hpp"
#include "fuzz_support.hpp"

namespace zai::fuzz {
namespace {

tool_definition tool(std::string name, std::string parameters,
                     tool_kind kind = tool_kind::function) {
  tool_definition t;
  t.name = std::move(name);
  t.parameters = std::move(parameters);
  t.kind = kind;
  return t;
}

tool_parser_options options_for(std::uint8_t bits) {
  tool_parser_options o;
  o.tools = {
      tool("read_file", R"({"type":"object","properties":{"path":{"type":"string"},)"
                        R"("limit":{"type":"integer"},"force":{"type":"boolean"}}})"),
      tool("bash", R"({"type":"object","properties":{"command":{"type":"string"}}})"),
      tool("grep", R"({"type":"object","properties":{"paths":{"type":"array","items":)"
                   R"({"type":"string"}},"options":{"type":"object","properties":)"
                   R"({"depth":{"type":"integer"}}},"ratio":{"type":["number","null"]}}})"),
      tool("get_time", "{}"),
      tool("apply_patch", "{}", tool_kind::custom),
  };
  constexpr tool_choice_mode modes[] = {tool_choice_mode::automatic, tool_choice_mode::none,
                                        tool_choice_mode::required, tool_choice_mode::named};
  o.choice = modes[bits & 3];
  o.named_tool = "bash";
  o.parallel = (bits & 4) == 0;
  o.nonce = (bits & 8) ? "" : "n0nce";
  return o;
}

struct outcome {
  std::string content;
  std::vector<tool_call> calls;
};

outcome check_events(const std::vector<answer_event>& events, const tool_parser_options& o,
                     std::size_t counted) {
  outcome r;
  bool open = false;
  for (const answer_event& e : events) {
    switch (e.what) {
      case answer_event::kind::content:
        require(!open, "no content inside a call");
        require(!e.text.empty(), "content events are not empty");
        require(is_valid_utf8(e.text), "content is valid UTF-8", e.text);
        r.content += e.text;
        break;
      case answer_event::kind::tool_call_start: {
        require(!open, "a call starts only after the last one ended");
        require(e.index == r.calls.size(), "calls are numbered in order");
        require(e.id.empty(), "the parser leaves ids to the flow");
        bool declared = false;
        for (const tool_definition& t : o.tools) declared |= t.name == e.name && t.kind == e.tool;
        require(declared, "a call names a declared tool", e.name);
        require(o.choice != tool_choice_mode::named || e.name == o.named_tool,
                "a named tool_choice gets only that tool", e.name);
        r.calls.push_back({"", e.name, "", e.tool});
        open = true;
        break;
      }
      case answer_event::kind::tool_call_arguments:
        require(open && e.index + 1 == r.calls.size(), "arguments belong to the open call");
        require(!e.text.empty(), "argument fragments are not empty");
        r.calls.back().arguments += e.text;
        break;
      case answer_event::kind::tool_call_end:
        require(open && e.index + 1 == r.calls.size(), "an end closes the open call");
        open = false;
        break;
      default: require(false, "the parser emits no finish or error");
    }
  }
  require(!open, "finish() closes every call");
  require(counted == r.calls.size(), "calls() counts the calls");
  require(o.choice != tool_choice_mode::none || r.calls.empty(), "tool_choice none: no call");
  require(o.parallel || r.calls.size() <= 1, "no parallel calls: at most one");
  for (const tool_call& c : r.calls) {
    if (c.kind == tool_kind::custom) {
      require(is_valid_utf8(c.arguments), "a custom input is valid UTF-8", c.arguments);
      continue;
    }
    const boost::json::value v = require_json(c.arguments, "arguments are valid JSON");
    require(v.is_object(), "arguments are a JSON object", c.arguments);
  }
  return r;
}

outcome parse(std::string_view answer, std::string_view piece_lengths,
              const tool_parser_options& o) {
  tool_call_parser parser(o);
  std::vector<answer_event> events;
  feed_in_pieces(answer, piece_lengths,
                 [&](std::string_view piece) { parser.feed(piece, events); });
  parser.finish(events);
  return check_events(events, o, parser.calls());
}

bool same(const outcome& a, const outcome& b) {
  if (a.content != b.content || a.calls.size() != b.calls.size()) return false;
  for (std::size_t i = 0; i < a.calls.size(); ++i) {
    if (a.calls[i].name != b.calls[i].name || a.calls[i].arguments != b.calls[i].arguments) {
      return false;
    }
  }
  return true;
}

std::string describe(const outcome& r) {
  std::string out = "  content: \"" + escaped_bytes(r.content, true) + "\"\n";
  for (const tool_call& c : r.calls) {
    out += "  call " + c.name + ": " + escaped_bytes(c.arguments, true) + "\n";
  }
  return out;
}

// The failure report of "any cut gives the same content and calls": the answer, where the cut
// fell, both results, and the first split into two pieces that differs too (when one does), which
// is usually the one to reason about.
std::string describe_cut(std::string_view answer, std::string_view piece_lengths,
                         const outcome& whole, const outcome& cut, const tool_parser_options& o) {
  std::string out = "answer (" + std::to_string(answer.size()) + " bytes): \"" +
                    escaped_bytes(answer, true) + "\"\ncut at:";
  std::size_t at = 0;
  feed_in_pieces(answer, piece_lengths, [&](std::string_view piece) {
    at += piece.size();
    if (at < answer.size()) out += " " + std::to_string(at);
  });
  out += "\nwhole:\n" + describe(whole) + "cut:\n" + describe(cut);
  for (std::size_t k = 1; k < answer.size(); ++k) {
    tool_call_parser parser(o);
    std::vector<answer_event> events;
    parser.feed(answer.substr(0, k), events);
    parser.feed(answer.substr(k), events);
    parser.finish(events);
    const outcome two = check_events(events, o, parser.calls());
    if (!same(whole, two)) {
      out += "first two-piece split that differs: at " + std::to_string(k) + " (\"" +
             escaped_bytes(answer.substr(k > 20 ? k - 20 : 0, k > 20 ? 20 : k), true) + "\" | \"" +
             escaped_bytes(answer.substr(k, 20), true) + "\")\n" + describe(two);
      return out;
    }
  }
  return out + "no split into two pieces differs\n";
}

}  // namespace
}  // namespace zai::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zai;
  using namespace zai::fuzz;
  const std::optional<cut_input> input = read_cut_input(data, size);
  if (!input) return 0;
  const tool_parser_options o = options_for(input->options);
  const std::string_view piece_lengths = input->piece_lengths;
  const std::string answer = repair_utf8(input->body);

  const outcome whole = parse(answer, {}, o);
  if (!piece_lengths.empty()) {
    const outcome cut = parse(answer, piece_lengths, o);
    if (!same(whole, cut)) {
      fail("any cut gives the same content and calls",
           describe_cut(answer, piece_lengths, whole, cut, o));
    }
  }
  if (answer.find_first_of("<`~") == std::string::npos) {
    require(whole.calls.empty() && whole.content == answer, "plain text passes through", answer);
  }
  return 0;
}
