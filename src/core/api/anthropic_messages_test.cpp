// The Messages answers: the stream's grammar (checked over many event sequences), the whole
// message, and the error envelope for every row of the error table.
#include "core/api/anthropic_messages.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

namespace zai {
namespace {

namespace json = boost::json;

completion_meta meta() { return {"msg_0123abcd", 1782413241, "claude-sonnet-4-5", 321}; }

struct sse_event {
  std::string type;  // the `event:` line
  json::object data;
};

// Splits `event: …\ndata: …\n\n` events; both lines are required and must name the same type.
std::vector<sse_event> events_of(const std::string& sse) {
  std::vector<sse_event> out;
  std::size_t pos = 0;
  while (pos < sse.size()) {
    const std::size_t end = sse.find("\n\n", pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated event at " << pos;
      break;
    }
    const std::string_view text = std::string_view(sse).substr(pos, end - pos);
    const std::size_t newline = text.find('\n');
    EXPECT_EQ(text.rfind("event: ", 0), 0u) << text;
    EXPECT_EQ(text.substr(newline + 1, 6), "data: ") << text;
    sse_event e{std::string(text.substr(7, newline - 7)),
                json::parse(text.substr(newline + 7)).as_object()};
    EXPECT_EQ(e.data.at("type").as_string(), e.type) << text;
    out.push_back(std::move(e));
    pos = end + 2;
  }
  return out;
}

// What a client reassembles from a stream, the way @anthropic-ai/sdk's MessageStream does.
struct reassembled {
  std::vector<json::object> blocks;  // the content blocks, deltas applied
  std::vector<std::string> inputs;   // per tool_use block: its partial_json, concatenated
  std::string stop_reason;           // empty when the stream ended in an error
  std::uint64_t output_tokens = 0;
  std::string error_type;
};

// Walks the events and asserts the grammar every Anthropic client relies on: message_start
// first, blocks one at a time with indexes 0, 1, 2, …, a delta only inside its block and of its
// block's kind, exactly one signature_delta as a thinking block's last delta, no block without a
// delta (tool_use excepted: its input may be empty), then one message_delta and message_stop
// last, or an error last. Pings may come anywhere after message_start.
reassembled check_grammar(const std::vector<sse_event>& events, const completion_meta& m) {
  reassembled out;
  if (events.empty() || events.front().type != "message_start") {
    ADD_FAILURE() << "the stream must open with message_start";
    return out;
  }
  const json::object& message = events.front().data.at("message").as_object();
  EXPECT_EQ(message.at("id").as_string(), std::string_view(m.id));
  EXPECT_EQ(message.at("type"), "message");
  EXPECT_EQ(message.at("role"), "assistant");
  EXPECT_EQ(message.at("model").as_string(), std::string_view(m.model));
  EXPECT_TRUE(message.at("content").as_array().empty());
  EXPECT_TRUE(message.at("stop_reason").is_null());
  EXPECT_TRUE(message.at("stop_sequence").is_null());
  EXPECT_EQ(message.at("usage").at("input_tokens"), m.prompt_tokens);
  EXPECT_EQ(message.at("usage").at("output_tokens"), 0);

  bool open = false, signed_block = false, over = false;
  std::size_t deltas = 0;
  for (std::size_t i = 1; i < events.size(); ++i) {
    const sse_event& e = events[i];
    SCOPED_TRACE("event " + std::to_string(i) + ": " + e.type);
    EXPECT_FALSE(over) << "nothing may follow message_stop or error";
    if (e.type == "ping") continue;
    if (e.type == "content_block_start") {
      EXPECT_FALSE(open);
      EXPECT_EQ(e.data.at("index"), out.blocks.size());
      out.blocks.push_back(e.data.at("content_block").as_object());
      out.inputs.emplace_back();
      open = true, signed_block = false, deltas = 0;
    } else if (e.type == "content_block_delta") {
      if (!open) {
        ADD_FAILURE() << "a delta outside its block";
        continue;
      }
      EXPECT_EQ(e.data.at("index"), out.blocks.size() - 1);
      json::object& block = out.blocks.back();
      const json::object& delta = e.data.at("delta").as_object();
      const json::string& kind = delta.at("type").as_string();
      const json::string& block_kind = block.at("type").as_string();
      EXPECT_FALSE(signed_block) << "the signature is a thinking block's last delta";
      if (kind == "text_delta" && block_kind == "text") {
        block["text"] = std::string(block.at("text").as_string()) +
                        std::string(delta.at("text").as_string());
      } else if (kind == "thinking_delta" && block_kind == "thinking") {
        block["thinking"] = std::string(block.at("thinking").as_string()) +
                            std::string(delta.at("thinking").as_string());
      } else if (kind == "signature_delta" && block_kind == "thinking") {
        EXPECT_FALSE(delta.at("signature").as_string().empty());
        signed_block = true;
      } else if (kind == "input_json_delta" && block_kind == "tool_use") {
        out.inputs.back() += delta.at("partial_json").as_string();
      } else {
        ADD_FAILURE() << kind << " in a " << block_kind << " block";
      }
      ++deltas;
    } else if (e.type == "content_block_stop") {
      if (!open) {
        ADD_FAILURE() << "a stop outside a block";
        continue;
      }
      EXPECT_EQ(e.data.at("index"), out.blocks.size() - 1);
      const json::string& kind = out.blocks.back().at("type").as_string();
      EXPECT_EQ(signed_block, kind == "thinking") << "one signature_delta per thinking block";
      EXPECT_TRUE(deltas > (kind == "thinking" ? 1u : 0u) || kind == "tool_use") << "empty";
      open = false;
    } else if (e.type == "message_delta") {
      EXPECT_FALSE(open) << "message_delta with a block still open";
      EXPECT_TRUE(out.stop_reason.empty()) << "a second message_delta";
      out.stop_reason = e.data.at("delta").at("stop_reason").as_string();
      EXPECT_TRUE(e.data.at("delta").at("stop_sequence").is_null());
      out.output_tokens = e.data.at("usage").at("output_tokens").to_number<std::uint64_t>();
    } else if (e.type == "message_stop") {
      EXPECT_FALSE(out.stop_reason.empty()) << "message_stop without message_delta";
      over = true;
    } else if (e.type == "error") {
      out.error_type = e.data.at("error").at("type").as_string();
      EXPECT_FALSE(e.data.at("error").at("message").as_string().empty());
      over = true;
    } else {
      ADD_FAILURE() << "unknown event " << e.type;
    }
  }
  EXPECT_TRUE(over) << "the stream must end with message_stop or error";
  return out;
}

answer_event text_event(answer_event::kind what, std::string text) {
  answer_event e;
  e.what = what;
  e.text = std::move(text);
  return e;
}

answer_event call_event(answer_event::kind what, std::size_t index, std::string text = {}) {
  answer_event e = text_event(what, std::move(text));
  e.index = index;
  e.id = "toolu_" + std::to_string(index);
  e.name = "Read";
  return e;
}

answer_event finished(finish_reason reason, std::uint64_t output_tokens = 7) {
  answer_event e;
  e.what = answer_event::kind::finished;
  e.finish = reason;
  e.usage.completion_tokens = output_tokens;
  return e;
}

std::string encode(const std::vector<answer_event>& events, const completion_meta& m = meta()) {
  static const config cfg;
  const auto encoder = anthropic_messages_surface().stream_encoder(m, {}, surface_context{cfg});
  std::string out;
  encoder->open(out);
  for (const answer_event& e : events) encoder->event(e, out);
  return out;
}

using kind = answer_event::kind;

TEST(anthropic_stream, a_text_answer_is_exactly_these_events) {
  const std::string out = encode({text_event(kind::content, "Hi \"there\""),
                                  text_event(kind::content, "!"), finished(finish_reason::stop)});
  EXPECT_EQ(out,
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
            "\"msg_0123abcd\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
            "\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
            "\"usage\":{\"input_tokens\":321,\"cache_creation_input_tokens\":0,"
            "\"cache_read_input_tokens\":0,\"output_tokens\":0}}}\n\n"
            "event: ping\ndata: {\"type\":\"ping\"}\n\n"
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
            "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
            "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi \\\"there\\\"\"}}\n\n"
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
            "\"delta\":{\"type\":\"text_delta\",\"text\":\"!\"}}\n\n"
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
            "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":321,"
            "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
            "\"output_tokens\":7}}\n\n"
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

TEST(anthropic_stream, thinking_is_a_signed_block_closed_before_the_text) {
  const auto r = check_grammar(
      events_of(encode({text_event(kind::reasoning, "Let me "), text_event(kind::reasoning, "see."),
                        text_event(kind::content, "Four."), finished(finish_reason::stop)})),
      meta());
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].at("type"), "thinking");
  EXPECT_EQ(r.blocks[0].at("thinking"), "Let me see.");
  EXPECT_EQ(r.blocks[1].at("text"), "Four.");
}

TEST(anthropic_stream, a_tool_call_is_a_tool_use_block_and_ends_the_turn_in_tool_use) {
  const std::string out = encode({text_event(kind::content, "Reading."),
                                  call_event(kind::tool_call_start, 0),
                                  call_event(kind::tool_call_arguments, 0, R"({"file_path":)"),
                                  call_event(kind::tool_call_arguments, 0, R"("/a"})"),
                                  call_event(kind::tool_call_end, 0),
                                  finished(finish_reason::tool_calls, 12)});
  const auto r = check_grammar(events_of(out), meta());
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[1], json::parse(R"({"type":"tool_use","id":"toolu_0","name":"Read",
                                         "input":{}})"));
  EXPECT_EQ(json::parse(r.inputs[1]), json::parse(R"({"file_path":"/a"})"));
  EXPECT_EQ(r.stop_reason, "tool_use");
  EXPECT_EQ(r.output_tokens, 12u);
}

TEST(anthropic_stream, finish_reasons_map_to_anthropic_stop_reasons) {
  const std::pair<finish_reason, std::string_view> cases[] = {
      {finish_reason::stop, "end_turn"},
      {finish_reason::length, "max_tokens"},
      {finish_reason::content_filter, "refusal"},
      {finish_reason::tool_calls, "tool_use"},
  };
  for (const auto& [reason, name] : cases) {
    EXPECT_EQ(stop_reason_name(reason), name);
    const auto r = check_grammar(events_of(encode({finished(reason)})), meta());
    EXPECT_EQ(r.stop_reason, name);
    EXPECT_TRUE(r.blocks.empty());
  }
  // A turn that called a tool says so even if the flow called it a plain stop.
  const auto r = check_grammar(events_of(encode({call_event(kind::tool_call_start, 0),
                                                 finished(finish_reason::stop)})),
                               meta());
  EXPECT_EQ(r.stop_reason, "tool_use");
}

TEST(anthropic_stream, an_error_ends_the_stream_in_anthropics_envelope) {
  answer_event failed;
  failed.what = kind::error;
  failed.error = make_error(errc::upstream_timeout);
  const std::string out =
      encode({text_event(kind::content, "Half"), failed, finished(finish_reason::stop)});
  const auto events = events_of(out);
  const auto r = check_grammar(events, meta());
  EXPECT_EQ(r.error_type, "timeout_error");
  EXPECT_EQ(events.back().data.at("error").at("message"), "Z.AI did not answer in time.");
  EXPECT_EQ(out.find("message_stop"), std::string::npos);
}

TEST(anthropic_stream, keep_alive_is_a_ping_and_nothing_follows_the_finish) {
  static const config cfg;
  const auto encoder = anthropic_messages_surface().stream_encoder(meta(), {}, {cfg});
  std::string out;
  encoder->open(out);
  encoder->keep_alive(out);
  encoder->event(text_event(kind::content, ""), out);  // empty text opens no block
  encoder->event(finished(finish_reason::stop), out);
  const std::size_t size = out.size();
  encoder->event(text_event(kind::content, "late"), out);
  encoder->event(finished(finish_reason::stop), out);
  encoder->keep_alive(out);
  EXPECT_EQ(out.size(), size);
  const auto events = events_of(out);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[1].type, "ping");
  EXPECT_EQ(events[2].type, "ping");
}

// The checker itself: each stream below repeats a bug other gateways shipped (agent-surfaces.md
// §2.6), and the checker must fail it.
TEST(anthropic_stream, the_checker_catches_what_broke_other_gateways) {
  const std::string start = encode({});
  const std::string head = start.substr(0, start.find("event: message_delta"));
  const std::string thinking_start =
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n";
  const std::string thinking_delta =
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"x\"}}\n\n";
  const std::string stop =
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
  const std::string end = start.substr(head.size());
  const std::string message_stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  const std::string unsigned_thinking = head + thinking_start + thinking_delta + stop + end;
  const std::string delta_first = head + thinking_delta + end;
  const std::string no_message_stop = head + end.substr(0, end.size() - message_stop.size());
  const std::string two_deltas = head + end.substr(0, end.size() - message_stop.size()) + end;
  for (const std::string* broken : {&unsigned_thinking, &delta_first, &no_message_stop,
                                    &two_deltas}) {
    testing::TestPartResultArray failures;
    {
      const testing::ScopedFakeTestPartResultReporter quiet(
          testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
      check_grammar(events_of(*broken), meta());
    }
    EXPECT_GT(failures.size(), 0) << *broken;
  }
}

// Many random answers through the encoder: the grammar holds and the client reassembles exactly
// the reasoning, text and tool calls that went in.
TEST(anthropic_stream, the_grammar_holds_over_many_event_sequences) {
  std::mt19937 random(20261206);
  const std::string_view pieces[] = {"a", "é", "\"q\"", "\\",
                                     "\n", "", "line\r\n", "\x01", "🙂"};
  for (int round = 0; round < 500; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<answer_event> events;
    std::string reasoning, text;
    std::vector<std::string> calls;
    const int steps = static_cast<int>(random() % 12);
    for (int s = 0; s < steps; ++s) {
      const std::string piece(pieces[random() % std::size(pieces)]);
      switch (random() % 3) {
        case 0:
          events.push_back(text_event(kind::reasoning, piece));
          reasoning += piece;
          break;
        case 1:
          events.push_back(text_event(kind::content, piece));
          text += piece;
          break;
        default: {
          const std::size_t index = calls.size();
          calls.emplace_back();
          events.push_back(call_event(kind::tool_call_start, index));
          for (unsigned f = random() % 3; f > 0; --f) {
            events.push_back(call_event(kind::tool_call_arguments, index, piece));
            calls.back() += piece;
          }
          if (random() % 4 != 0) events.push_back(call_event(kind::tool_call_end, index));
        }
      }
    }
    const bool fails = random() % 5 == 0;
    if (fails) {
      answer_event e;
      e.what = kind::error;
      e.error = make_error(errc::upstream_error);
      events.push_back(e);
    } else {
      events.push_back(finished(static_cast<finish_reason>(random() % 4), random() % 100));
    }
    const reassembled r = check_grammar(events_of(encode(events)), meta());
    std::string thought, said;
    std::vector<std::string> inputs;
    for (std::size_t b = 0; b < r.blocks.size(); ++b) {
      const json::string& type = r.blocks[b].at("type").as_string();
      if (type == "thinking") thought += r.blocks[b].at("thinking").as_string();
      if (type == "text") said += r.blocks[b].at("text").as_string();
      if (type == "tool_use") inputs.push_back(r.inputs[b]);
    }
    if (fails) continue;  // what came before the error is checked by the grammar alone
    EXPECT_EQ(thought, reasoning);
    EXPECT_EQ(said, text);
    EXPECT_EQ(inputs, calls);
  }
}

}  // namespace
}  // namespace zai
