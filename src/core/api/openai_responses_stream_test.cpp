#include "core/api/openai_responses_stream.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/api/response_stream_check.hpp"

namespace zai {
namespace {

namespace json = boost::json;
using testing::stream_check;

completion_meta meta() { return completion_meta{"resp_abc", 1700000000, "glm-4.7", 12}; }

answer_event text_event(answer_event::kind what, std::string text) {
  answer_event e;
  e.what = what;
  e.text = std::move(text);
  return e;
}
answer_event reasoning(std::string t) { return text_event(answer_event::kind::reasoning, t); }
answer_event content(std::string t) { return text_event(answer_event::kind::content, t); }
answer_event call_start(std::size_t index, std::string name, tool_kind tool = tool_kind::function) {
  answer_event e;
  e.what = answer_event::kind::tool_call_start;
  e.index = index;
  e.id = "call_" + std::to_string(index) + "x";
  e.name = std::move(name);
  e.tool = tool;
  return e;
}
answer_event call_args(std::size_t index, std::string text) {
  answer_event e = text_event(answer_event::kind::tool_call_arguments, std::move(text));
  e.index = index;
  return e;
}
answer_event call_end(std::size_t index) {
  answer_event e;
  e.what = answer_event::kind::tool_call_end;
  e.index = index;
  return e;
}
answer_event finished(finish_reason why = finish_reason::stop) {
  answer_event e;
  e.what = answer_event::kind::finished;
  e.finish = why;
  e.usage = token_usage{12, 30, 42, 2, true};
  return e;
}
answer_event failed(errc code) {
  answer_event e;
  e.what = answer_event::kind::error;
  e.error = make_error(code);
  return e;
}

std::string run(const std::vector<answer_event>& events, const chat_request& request = {},
                response_store* store = nullptr) {
  response_event_writer writer(meta(), request, store, 1000);
  std::string out;
  writer.open(out);
  for (const answer_event& e : events) writer.event(e, out);
  return out;
}

using types = std::vector<std::string>;

TEST(responses_stream, text_is_one_message_item_announced_before_its_deltas) {
  const std::string sse = run({content("Hel"), content("lo"), finished()});
  const stream_check c(sse);
  EXPECT_EQ(c.types, (types{"response.created", "response.in_progress",
                            "response.output_item.added", "response.content_part.added",
                            "response.output_text.delta", "response.output_text.delta",
                            "response.output_text.done", "response.content_part.done",
                            "response.output_item.done", "response.completed"}));
  ASSERT_EQ(c.terminal.at("output").as_array().size(), 1u);
  const json::value& message = c.terminal.at("output").at(0);
  EXPECT_EQ(message.at("id"), "msg_abc_0");
  EXPECT_EQ(message.at("status"), "completed");
  EXPECT_EQ(c.terminal.at("output_text"), "Hello");
  EXPECT_EQ(c.terminal.at("usage").at("input_tokens"), 12);
  EXPECT_EQ(c.terminal.at("usage").at("output_tokens"), 30);
  EXPECT_EQ(c.terminal.at("usage").at("total_tokens"), 42);
  EXPECT_EQ(c.terminal.at("usage").at("input_tokens_details").at("cached_tokens"), 2);
  EXPECT_TRUE(sse.starts_with("event: response.created\ndata: {\"type\":\"response.created\","
                              "\"sequence_number\":0,"));
  EXPECT_EQ(sse.find("[DONE]"), std::string::npos);
}

TEST(responses_stream, reasoning_is_a_summary_closed_before_the_answer_begins) {
  const stream_check c(run({reasoning("Think"), reasoning("ing"), content("Hi"), finished()}));
  EXPECT_EQ(c.types, (types{"response.created", "response.in_progress",
                            "response.output_item.added", "response.reasoning_summary_part.added",
                            "response.reasoning_summary_text.delta",
                            "response.reasoning_summary_text.delta",
                            "response.reasoning_summary_text.done",
                            "response.reasoning_summary_part.done", "response.output_item.done",
                            "response.output_item.added", "response.content_part.added",
                            "response.output_text.delta", "response.output_text.done",
                            "response.content_part.done", "response.output_item.done",
                            "response.completed"}));
  const json::value& thinking = c.terminal.at("output").at(0);
  EXPECT_EQ(thinking.at("id"), "rs_abc_0");
  EXPECT_EQ(thinking.at("summary").at(0).at("text"), "Thinking");
  EXPECT_EQ(c.terminal.at("output_text"), "Hi");
  EXPECT_EQ(c.terminal.at("usage").at("output_tokens_details").at("reasoning_tokens"), 2);
}

TEST(responses_stream, a_function_call_is_done_with_its_complete_arguments) {
  const stream_check c(run({content("Let me look."), call_start(0, "read"),
                            call_args(0, "{\"path\":"), call_args(0, "\"a.txt\"}"), call_end(0),
                            finished(finish_reason::tool_calls)}));
  ASSERT_EQ(c.terminal.at("output").as_array().size(), 2u);
  const json::value& call = c.terminal.at("output").at(1);
  EXPECT_EQ(call.at("type"), "function_call");
  EXPECT_EQ(call.at("id"), "fc_abc_1");
  EXPECT_EQ(call.at("call_id"), "call_0x");
  EXPECT_EQ(call.at("name"), "read");
  EXPECT_EQ(call.at("arguments"), "{\"path\":\"a.txt\"}");
  EXPECT_EQ(call.at("status"), "completed");
  EXPECT_EQ(c.count("response.function_call_arguments.delta"), 2u);
  EXPECT_EQ(c.count("response.function_call_arguments.done"), 1u);
  EXPECT_EQ(c.terminal.at("status"), "completed");
}

TEST(responses_stream, a_custom_tool_call_streams_its_raw_input) {
  const stream_check c(run({call_start(0, "apply_patch", tool_kind::custom),
                            call_args(0, "*** Begin Patch\n"), call_args(0, "*** End Patch"),
                            call_end(0), finished(finish_reason::tool_calls)}));
  const json::value& call = c.terminal.at("output").at(0);
  EXPECT_EQ(call.at("type"), "custom_tool_call");
  EXPECT_EQ(call.at("id"), "ctc_abc_0");
  EXPECT_EQ(call.at("input"), "*** Begin Patch\n*** End Patch");
  EXPECT_EQ(c.count("response.custom_tool_call_input.delta"), 2u);
  EXPECT_EQ(c.count("response.custom_tool_call_input.done"), 1u);
  EXPECT_EQ(c.count("response.function_call_arguments.delta"), 0u);
}

TEST(responses_stream, parallel_calls_are_separate_items) {
  const stream_check c(run({call_start(0, "a"), call_args(0, "{}"), call_start(1, "b"),
                            call_args(1, "{\"x\":1}"), call_end(0), call_end(1),
                            finished(finish_reason::tool_calls)}));
  ASSERT_EQ(c.terminal.at("output").as_array().size(), 2u);
  EXPECT_EQ(c.terminal.at("output").at(0).at("arguments"), "{}");
  EXPECT_EQ(c.terminal.at("output").at(1).at("arguments"), "{\"x\":1}");
  EXPECT_NE(c.terminal.at("output").at(0).at("call_id"), c.terminal.at("output").at(1).at("call_id"));
}

TEST(responses_stream, a_call_without_an_id_still_gets_a_call_id) {
  answer_event start = call_start(0, "read");
  start.id.clear();
  const stream_check c(run({start, call_end(0), finished(finish_reason::tool_calls)}));
  EXPECT_EQ(c.terminal.at("output").at(0).at("call_id"), "call_abc_0");
}

TEST(responses_stream, the_token_limit_makes_the_response_incomplete_and_drops_an_open_call) {
  const stream_check c(run({content("Part"), call_start(0, "write"), call_args(0, "{\"half\":"),
                            finished(finish_reason::length)}));
  EXPECT_EQ(c.types.back(), "response.incomplete");
  EXPECT_EQ(c.terminal.at("incomplete_details").at("reason"), "max_output_tokens");
  // The message was finished before the call began; the cut call is never done.
  ASSERT_EQ(c.terminal.at("output").as_array().size(), 1u);
  EXPECT_EQ(c.count("response.output_item.done"), 1u);
}

TEST(responses_stream, a_cut_message_is_done_as_incomplete) {
  const stream_check c(run({content("Par"), finished(finish_reason::length)}));
  EXPECT_EQ(c.terminal.at("output").at(0).at("status"), "incomplete");
  const stream_check filtered(run({content("x"), finished(finish_reason::content_filter)}));
  EXPECT_EQ(filtered.terminal.at("incomplete_details").at("reason"), "content_filter");
}

TEST(responses_stream, a_call_the_model_left_open_at_a_normal_end_is_completed) {
  const stream_check c(run({call_start(0, "read"), call_args(0, "{}"), finished()}));
  EXPECT_EQ(c.terminal.at("output").at(0).at("arguments"), "{}");
  EXPECT_EQ(c.count("response.output_item.done"), 1u);
}

TEST(responses_stream, a_failure_ends_with_response_failed_and_never_finishes_an_open_call) {
  const stream_check c(run({reasoning("hm"), call_start(0, "rm"), call_args(0, "{\"pa"),
                            failed(errc::upstream_error)}));
  EXPECT_EQ(c.types.back(), "response.failed");
  EXPECT_EQ(c.terminal.at("error").at("code"), "server_error");
  EXPECT_EQ(c.terminal.at("output").as_array().size(), 1u);  // the reasoning only
  EXPECT_EQ(c.count("response.function_call_arguments.done"), 0u);
}

TEST(responses_stream, a_rate_limit_tells_codex_when_to_try_again) {
  const stream_check c(run({failed(errc::rate_limited)}));
  EXPECT_EQ(c.types, (types{"response.created", "response.in_progress", "response.failed"}));
  EXPECT_EQ(c.terminal.at("error").at("code"), "rate_limit_exceeded");
  const std::string message(c.terminal.at("error").at("message").as_string());
  EXPECT_NE(message.find("Please try again in 5s."), std::string::npos) << message;
}

TEST(responses_stream, nothing_follows_the_terminal_event) {
  response_event_writer writer(meta(), {}, nullptr, 0);
  std::string out;
  writer.event(content("no open() first"), out);  // the stream opens itself
  writer.event(finished(), out);
  EXPECT_TRUE(writer.ended());
  const std::size_t size = out.size();
  writer.event(content("late"), out);
  writer.event(failed(errc::internal), out);
  writer.keep_alive(out);
  EXPECT_EQ(out.size(), size);
  const stream_check c(out);
  EXPECT_EQ(c.count("response.completed"), 1u);
}

TEST(responses_stream, keep_alive_is_a_comment_clients_skip) {
  response_event_writer writer(meta(), {}, nullptr, 0);
  std::string out;
  writer.open(out);
  writer.keep_alive(out);
  EXPECT_TRUE(out.ends_with("\n\n: keep-alive\n\n"));
  writer.event(finished(), out);
  EXPECT_EQ(stream_check(out).comments, 1u);
}

TEST(responses_stream, any_sequence_of_answer_events_makes_a_stream_clients_accept) {
  std::mt19937 random(7);
  for (int round = 0; round < 500; ++round) {
    SCOPED_TRACE(round);
    std::vector<answer_event> events;
    std::size_t calls = 0;
    std::vector<std::size_t> open;
    const int length = static_cast<int>(random() % 12);
    for (int i = 0; i < length; ++i) {
      switch (random() % 6) {
        case 0: events.push_back(reasoning("think ")); break;
        case 1: events.push_back(content("say ")); break;
        case 2:
          events.push_back(call_start(calls, "t", random() % 2 ? tool_kind::custom
                                                               : tool_kind::function));
          open.push_back(calls++);
          break;
        case 3:
          if (!open.empty()) events.push_back(call_args(open[random() % open.size()], "{}"));
          break;
        case 4:
          if (!open.empty()) {
            events.push_back(call_end(open.front()));
            open.erase(open.begin());
          }
          break;
        case 5: events.push_back(content("")); break;
      }
    }
    const int end = static_cast<int>(random() % 4);
    events.push_back(end == 0   ? failed(errc::upstream_timeout)
                     : end == 1 ? finished(finish_reason::length)
                                : finished(finish_reason::tool_calls));
    const stream_check c(run(events));
    EXPECT_EQ(c.count("response.completed") + c.count("response.incomplete") +
                  c.count("response.failed"),
              1u);
  }
}

chat_request storing_request() {
  chat_request r;
  chat_message instructions;
  instructions.role = message_role::system;
  instructions.text = "Be brief.";
  chat_message question;
  question.role = message_role::user;
  question.text = "Read a.txt";
  r.messages = {instructions, question};
  r.responses.store = true;
  r.responses.instructions_first = true;
  return r;
}

TEST(responses_stream, a_finished_response_is_stored_for_get_and_continuation) {
  response_store store;
  const stream_check c(run({content("Reading."), call_start(0, "read"), call_args(0, "{}"),
                            call_end(0), finished(finish_reason::tool_calls)},
                           storing_request(), &store));
  const stored_response* kept = store.find("resp_abc", 1000);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(json::parse(kept->body), json::value(c.terminal));
  ASSERT_EQ(kept->conversation.size(), 2u);  // instructions are not carried over
  EXPECT_EQ(kept->conversation[0].text, "Read a.txt");
  EXPECT_EQ(kept->conversation[1].text, "Reading.");
  ASSERT_EQ(kept->conversation[1].tool_calls.size(), 1u);
  EXPECT_EQ(kept->conversation[1].tool_calls[0].id, "call_0x");
}

TEST(responses_stream, a_failed_or_unstored_response_is_not_kept) {
  response_store store;
  run({content("x"), failed(errc::upstream_error)}, storing_request(), &store);
  chat_request unstored = storing_request();
  unstored.responses.store = false;
  run({content("x"), finished()}, unstored, &store);
  EXPECT_EQ(store.size(), 0u);
}

}  // namespace
}  // namespace zai
