// Test support for tool calling: the shared tool catalogue (test/tool-corpus/tools.json, the
// tools a coding agent typically offers), a request offering some of them, the tool-call parser
// run over an answer cut into given pieces, and the checks every run must pass (events in order,
// each function call's arguments one JSON object). Used by the parser's unit tests, the corpus
// replay and the tool_eval executable.
#pragma once

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/openai_chat_request.hpp"
#include "core/tools/tool_parser.hpp"

namespace zai::testing {

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

inline std::string source_path(std::string_view relative) {
  return std::string(ZAI_SOURCE_DIR) + "/" + std::string(relative);
}

// The catalogue's tools named in `names` (space-separated, in that order), as an OpenAI `tools`
// array's JSON text.
inline std::string catalogue_tools_json(std::string_view names) {
  static const boost::json::value catalogue =
      boost::json::parse(read_text_file(source_path("test/tool-corpus/tools.json")));
  boost::json::array chosen;
  std::size_t at = 0;
  while (at < names.size()) {
    const std::size_t end = std::min(names.find(' ', at), names.size());
    const std::string_view name = names.substr(at, end - at);
    at = end + 1;
    if (name.empty()) continue;
    for (const boost::json::value& tool : catalogue.as_array()) {
      const boost::json::object& t = tool.as_object();
      const boost::json::value& body = t.at(t.at("type").as_string());
      if (body.as_object().at("name").as_string() == name) chosen.push_back(tool);
    }
  }
  return boost::json::serialize(chosen);
}

// A chat request offering the named catalogue tools, parsed as a client's body would be.
// `extra` adds top-level members ("tool_choice":…, "parallel_tool_calls":…).
inline chat_request tool_request(std::string_view names, std::string_view extra = "") {
  std::string body = R"({"model":"glm-4.7","messages":[{"role":"user","content":"Go."}],"tools":)" +
                     catalogue_tools_json(names);
  if (!extra.empty()) body += "," + std::string(extra);
  body += "}";
  result<chat_request> r = parse_chat_request(body);
  return r.has_value() ? *r : chat_request{};
}

// What a client ends up with: the content, and each call's name and concatenated arguments.
struct parsed_answer {
  std::string content;
  std::vector<tool_call> calls;
  std::vector<answer_event> events;
  std::string problem;  // empty when the events obey the parser's contract
};

// Checks the event contract and collects the answer.
inline parsed_answer collect(std::vector<answer_event> events) {
  parsed_answer a;
  bool open = false;
  for (const answer_event& e : events) {
    const auto fail = [&](std::string why) {
      if (a.problem.empty()) a.problem = std::move(why);
    };
    switch (e.what) {
      case answer_event::kind::content:
        if (open) fail("content inside a call");
        if (e.text.empty()) fail("empty content event");
        a.content += e.text;
        break;
      case answer_event::kind::tool_call_start:
        if (open) fail("a call starts inside another");
        if (e.index != a.calls.size()) fail("call index out of order");
        if (!e.id.empty()) fail("the parser filled an id");
        a.calls.push_back({"", e.name, "", e.tool});
        open = true;
        break;
      case answer_event::kind::tool_call_arguments:
        if (!open || e.index + 1 != a.calls.size()) fail("arguments outside their call");
        if (e.text.empty()) fail("empty arguments fragment");
        if (!a.calls.empty()) a.calls.back().arguments += e.text;
        break;
      case answer_event::kind::tool_call_end:
        if (!open || e.index + 1 != a.calls.size()) fail("end outside its call");
        open = false;
        break;
      default: fail("the parser emitted a finish or an error");
    }
  }
  if (open) a.problem = "a call was left open";
  for (const tool_call& c : a.calls) {
    if (c.kind != tool_kind::function) continue;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(c.arguments, ec);
    if (ec || !v.is_object()) a.problem = "arguments are not one JSON object: " + c.arguments;
  }
  a.events = std::move(events);
  return a;
}

inline parsed_answer parse_pieces(const chat_request& request, std::string_view nonce,
                                  const std::vector<std::string_view>& pieces) {
  tool_call_parser parser(request, std::string(nonce));
  std::vector<answer_event> events;
  for (std::string_view piece : pieces) parser.feed(piece, events);
  parser.finish(events);
  return collect(std::move(events));
}

inline parsed_answer parse_whole(const chat_request& request, std::string_view nonce,
                                 std::string_view answer) {
  return parse_pieces(request, nonce, {answer});
}

inline parsed_answer parse_bytewise(const chat_request& request, std::string_view nonce,
                                    std::string_view answer) {
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < answer.size(); ++i) pieces.push_back(answer.substr(i, 1));
  return parse_pieces(request, nonce, pieces);
}

// Arguments as a client's JSON parser reads them (null when they are not JSON).
inline boost::json::value arguments_value(const tool_call& c) {
  if (c.kind == tool_kind::custom) return boost::json::value(c.arguments);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(c.arguments, ec);
  return ec ? boost::json::value(nullptr) : v;
}

// Two answers a client cannot tell apart: same content, same calls (arguments as JSON values).
inline bool same_answer(const parsed_answer& a, const parsed_answer& b) {
  if (a.content != b.content || a.calls.size() != b.calls.size()) return false;
  for (std::size_t i = 0; i < a.calls.size(); ++i) {
    const tool_call& x = a.calls[i];
    const tool_call& y = b.calls[i];
    if (x.name != y.name || x.kind != y.kind) return false;
    if (arguments_value(x) != arguments_value(y)) return false;
  }
  return true;
}

inline std::string describe(const parsed_answer& a) {
  std::string out = "content: [" + a.content + "]\n";
  for (const tool_call& c : a.calls) out += "call " + c.name + ": " + c.arguments + "\n";
  if (!a.problem.empty()) out += "problem: " + a.problem + "\n";
  return out;
}

}  // namespace zai::testing
