// The Responses API surface on arbitrary client bodies: parse, then, for what it accepts, a
// streamed answer, a whole answer and the stored response, as POST /v1/responses is served.
//
// Input: the whole input is the POST /v1/responses body. The store holds one response,
// `resp_seed`, whose turn called `call_seed`, so continuations and their outputs are reachable.
// What must hold:
//   - a refusal is a 400 (invalid_json, invalid_request or previous_response_not_found) whose
//     OpenAI error body is valid JSON;
//   - an accepted request has messages, and the fields its response repeats are JSON members;
//   - the stream, for answer events made from the request's own texts and tools, is valid SSE:
//     every event valid JSON naming its type on its `event:` line, sequence numbers 0, 1, 2, …,
//     exactly one terminal event, last;
//   - the whole body and what GET would return are valid JSON objects.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/api/openai_responses.hpp"
#include "core/api/response_store.hpp"
#include "fuzz_support.hpp"

namespace zai::fuzz {
namespace {

response_store& seeded_store() {
  static response_store store = [] {
    response_store s;
    chat_message question;
    question.role = message_role::user;
    question.text = "Read a.txt";
    chat_message turn;
    turn.role = message_role::assistant;
    turn.tool_calls.push_back(tool_call{"call_seed", "read", "{}", tool_kind::function});
    s.put(stored_response{"resp_seed", "{}", {question, turn}}, 0);
    return s;
  }();
  return store;
}

// Answer events from the request's own (valid UTF-8) texts: the answer repeats the last
// message's text as reasoning and content, and calls the first tool with it, ending the way the
// body's length picks.
std::vector<answer_event> answer_for(const chat_request& r, std::size_t pick) {
  const std::string& text = r.messages.back().text;
  std::vector<answer_event> events;
  const auto add = [&](answer_event::kind what, std::string t, std::size_t index = 0) {
    answer_event e;
    e.what = what;
    e.text = std::move(t);
    e.index = index;
    events.push_back(std::move(e));
  };
  add(answer_event::kind::reasoning, text);
  add(answer_event::kind::content, text);
  if (!r.tools.empty()) {
    answer_event start;
    start.what = answer_event::kind::tool_call_start;
    start.id = "call_fuzz";
    start.name = r.tools.front().name;
    start.tool = r.tools.front().kind;
    events.push_back(start);
    add(answer_event::kind::tool_call_arguments, text);
    if (pick % 2 == 0) add(answer_event::kind::tool_call_end, "");
  }
  answer_event end;
  end.what = pick % 5 == 0 ? answer_event::kind::error : answer_event::kind::finished;
  end.finish = pick % 3 == 0 ? finish_reason::length : finish_reason::stop;
  end.error = make_error(errc::rate_limited);
  events.push_back(end);
  return events;
}

void check_stream(std::string_view sse) {
  std::size_t sequence = 0, terminals = 0;
  while (!sse.empty()) {
    const std::size_t end = sse.find("\n\n");
    require(end != std::string_view::npos, "every event ends with a blank line", sse);
    const std::string_view block = sse.substr(0, end);
    sse.remove_prefix(end + 2);
    if (block.starts_with(":")) continue;
    require(terminals == 0, "nothing follows the terminal event", block);
    require(block.starts_with("event: "), "an event names its type", block);
    const std::size_t newline = block.find("\ndata: ");
    require(newline != std::string_view::npos, "an event has one data line", block);
    const boost::json::value data = require_json(block.substr(newline + 7), "event data is JSON");
    const std::string_view type = data.at("type").as_string();
    require(type == block.substr(7, newline - 7), "the event line names the data's type", block);
    require(data.at("sequence_number").as_int64() == static_cast<std::int64_t>(sequence++),
            "sequence numbers count up from 0", block);
    if (type == "response.completed" || type == "response.incomplete" ||
        type == "response.failed") {
      ++terminals;
    }
  }
  require(terminals == 1, "exactly one terminal event");
}

}  // namespace
}  // namespace zai::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zai;
  using namespace zai::fuzz;
  static const config cfg;
  const std::string_view body = as_text(data, size);
  const surface& s = openai_responses_surface();
  const surface_context ctx{cfg, &seeded_store(), 1000};

  const result<chat_request> parsed = s.parse(body, ctx);
  if (parsed.has_error()) {
    const api_error& e = parsed.error();
    require(e.code == errc::invalid_json || e.code == errc::invalid_request ||
                e.code == errc::previous_response_not_found,
            "a refused body is one of the parser's errors", e.message);
    // An unknown previous_response_id is a 404, as issue 14 asks; everything else a 400.
    require(http_status(e) == (e.code == errc::previous_response_not_found ? 404 : 400),
            "a refused body is a 400, or a 404 for an unknown previous response");
    require_json(s.error_body(e), "the error body is valid JSON");
    return 0;
  }
  const chat_request& request = *parsed;
  require(!request.messages.empty(), "an accepted request has messages");
  require_json("{" + request.responses.echo + "}", "the echo is JSON members");

  // Answers are kept as resp_fuzz (replacing the last one), so resp_seed stays.
  const completion_meta meta{"resp_fuzz", 1700000000, request.model, 1};
  const std::unique_ptr<answer_encoder> encoder = s.stream_encoder(meta, request, ctx);
  std::string sse;
  encoder->open(sse);
  for (const answer_event& e : answer_for(request, size)) encoder->event(e, sse);
  check_stream(sse);

  answer a;
  a.reasoning = a.content = request.messages.back().text;
  a.finish = size % 3 == 0 ? finish_reason::length : finish_reason::stop;
  require(require_json(s.whole(meta, request, a, ctx), "the whole body is JSON").is_object(),
          "the whole body is an object");
  const result<std::string> stored = retrieve_response("resp_fuzz", ctx);
  if (stored.has_value()) require_json(*stored, "a stored response is JSON");
  return 0;
}
