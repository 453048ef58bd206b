#include "core/api/openai_responses.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/api/openai_responses_output.hpp"
#include "core/api/response_store.hpp"
#include "core/api/response_stream_check.hpp"

namespace zai {
namespace {

namespace json = boost::json;

const config cfg;

completion_meta meta(std::string id = "resp_abc") {
  return completion_meta{std::move(id), 1700000000, "glm-4.7", 12};
}

chat_request parse(std::string_view body, const surface_context& ctx) {
  const auto r = openai_responses_surface().parse(body, ctx);
  EXPECT_TRUE(r.has_value()) << (r.has_error() ? r.error().message : "");
  return r.has_value() ? *r : chat_request{};
}

answer full_answer() {
  answer a;
  a.reasoning = "Let me think.";
  a.content = "I will read it.";
  a.tool_calls.push_back(tool_call{"call_1", "read", R"({"path":"a.txt"})", tool_kind::function});
  a.tool_calls.push_back(tool_call{"call_2", "apply_patch", "*** Begin Patch", tool_kind::custom});
  a.finish = finish_reason::tool_calls;
  a.usage = token_usage{100, 40, 140, 10, true};
  return a;
}

TEST(responses_surface, names_itself_and_its_ids) {
  const surface& s = openai_responses_surface();
  EXPECT_EQ(&s, &openai_responses_surface());
  EXPECT_EQ(s.name(), "openai_responses");
  EXPECT_EQ(s.id_prefix(), "resp_");
  EXPECT_EQ(s.call_id_prefix(), "call_");
}

TEST(responses_surface, a_whole_answer_is_the_response_object_with_every_item) {
  response_store store;
  const surface_context ctx{cfg, &store, 5000};
  const chat_request request =
      parse(R"({"model":"glm-4.7","input":"Read a.txt","instructions":"Be brief.",
                "tools":[{"type":"function","name":"read"},{"type":"custom","name":"apply_patch"}]})",
            ctx);
  const json::object body =
      json::parse(openai_responses_surface().whole(meta(), request, full_answer(), ctx))
          .as_object();
  EXPECT_EQ(body.at("id"), "resp_abc");
  EXPECT_EQ(body.at("object"), "response");
  EXPECT_EQ(body.at("created_at"), 1700000000);
  EXPECT_EQ(body.at("status"), "completed");
  EXPECT_EQ(body.at("model"), "glm-4.7");
  EXPECT_TRUE(body.at("error").is_null());
  EXPECT_TRUE(body.at("incomplete_details").is_null());
  EXPECT_EQ(body.at("instructions"), "Be brief.");
  EXPECT_EQ(body.at("tools").as_array().size(), 2u);
  EXPECT_EQ(body.at("store"), true);
  const json::array& output = body.at("output").as_array();
  ASSERT_EQ(output.size(), 4u);
  EXPECT_EQ(output[0].at("type"), "reasoning");
  EXPECT_EQ(output[0].at("id"), "rs_abc_0");
  EXPECT_EQ(output[0].at("summary").at(0).at("text"), "Let me think.");
  EXPECT_EQ(output[1].at("type"), "message");
  EXPECT_EQ(output[1].at("id"), "msg_abc_1");
  EXPECT_EQ(output[1].at("role"), "assistant");
  EXPECT_EQ(output[1].at("content").at(0).at("type"), "output_text");
  EXPECT_EQ(output[2].at("type"), "function_call");
  EXPECT_EQ(output[2].at("id"), "fc_abc_2");
  EXPECT_EQ(output[2].at("call_id"), "call_1");
  EXPECT_EQ(output[2].at("arguments"), R"({"path":"a.txt"})");
  EXPECT_EQ(output[3].at("type"), "custom_tool_call");
  EXPECT_EQ(output[3].at("id"), "ctc_abc_3");
  EXPECT_EQ(output[3].at("input"), "*** Begin Patch");
  EXPECT_EQ(body.at("output_text"), "I will read it.");
  const json::object& usage = body.at("usage").as_object();
  EXPECT_EQ(usage.at("input_tokens"), 100);
  EXPECT_EQ(usage.at("input_tokens_details").at("cached_tokens"), 10);
  EXPECT_EQ(usage.at("output_tokens"), 40);
  EXPECT_EQ(usage.at("output_tokens_details").at("reasoning_tokens"), 4);
  EXPECT_EQ(usage.at("total_tokens"), 140);
}

TEST(responses_surface, a_whole_answer_cut_by_the_limit_is_incomplete) {
  const surface_context ctx{cfg, nullptr, 0};
  answer a;
  a.content = "Half";
  a.finish = finish_reason::length;
  const json::object body =
      json::parse(openai_responses_surface().whole(meta(), {}, a, ctx)).as_object();
  EXPECT_EQ(body.at("status"), "incomplete");
  EXPECT_EQ(body.at("incomplete_details").at("reason"), "max_output_tokens");
  EXPECT_EQ(body.at("output").at(0).at("status"), "incomplete");
  // Without a parsed request the fields the SDKs' types require are still there.
  for (std::string_view key : {"instructions", "metadata", "parallel_tool_calls", "temperature",
                               "tool_choice", "tools", "top_p"}) {
    EXPECT_TRUE(body.contains(key)) << key;
  }
}

TEST(responses_surface, a_stored_response_is_served_by_get_and_continued) {
  response_store store;
  const surface_context ctx{cfg, &store, 1000};
  const chat_request first = parse(
      R"({"model":"glm-4.7","instructions":"Old rules.","input":"Read a.txt","store":true})", ctx);
  const std::string body = openai_responses_surface().whole(meta("resp_1"), first,
                                                            full_answer(), ctx);
  const result<std::string> got = retrieve_response("resp_1", ctx);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, body);

  const chat_request next = parse(
      R"({"model":"glm-4.7","previous_response_id":"resp_1","instructions":"New rules.",
          "input":[{"type":"function_call_output","call_id":"call_1","output":"A"},
                   {"type":"custom_tool_call_output","call_id":"call_2","output":"Done"}]})",
      ctx);
  ASSERT_EQ(next.messages.size(), 5u);
  EXPECT_EQ(next.messages[0].text, "New rules.");  // the old instructions are not carried over
  EXPECT_EQ(next.messages[1].text, "Read a.txt");
  EXPECT_EQ(next.messages[2].text, "I will read it.");  // reasoning is not replayed
  ASSERT_EQ(next.messages[2].tool_calls.size(), 2u);
  EXPECT_EQ(next.messages[2].tool_calls[1].kind, tool_kind::custom);
  EXPECT_EQ(next.messages[3].tool_name, "read");
  EXPECT_EQ(next.messages[4].tool_name, "apply_patch");
}

TEST(responses_surface, a_streamed_response_is_kept_the_same_way) {
  response_store store;
  const surface_context ctx{cfg, &store, 1000};
  const chat_request request = parse(R"({"model":"glm-4.7","input":"Hi","stream":true})", ctx);
  const auto encoder = openai_responses_surface().stream_encoder(meta("resp_s"), request, ctx);
  std::string out;
  encoder->open(out);
  answer_event text;
  text.what = answer_event::kind::content;
  text.text = "Hello";
  encoder->event(text, out);
  answer_event end;
  end.what = answer_event::kind::finished;
  encoder->event(end, out);
  const testing::stream_check c(out);
  const result<std::string> got = retrieve_response("resp_s", ctx);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(json::parse(*got), json::value(c.terminal));
  EXPECT_EQ(c.terminal.at("output_text"), "Hello");
}

TEST(responses_surface, nothing_is_kept_when_the_request_says_store_false) {
  response_store store;
  const surface_context ctx{cfg, &store, 0};
  const chat_request request = parse(R"({"model":"m","input":"Hi","store":false})", ctx);
  const std::string body = openai_responses_surface().whole(meta(), request, full_answer(), ctx);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(json::parse(body).at("store"), false);
}

TEST(responses_surface, get_of_an_unknown_response_is_a_404_in_the_openai_shape) {
  response_store store;
  for (response_store* s : {&store, static_cast<response_store*>(nullptr)}) {
    const result<std::string> got = retrieve_response("resp_nope", surface_context{cfg, s, 0});
    ASSERT_TRUE(got.has_error());
    EXPECT_EQ(http_status(got.error()), 404);
    const json::value error =
        json::parse(openai_responses_surface().error_body(got.error())).at("error");
    EXPECT_EQ(error.at("code"), "response_not_found");
    EXPECT_EQ(error.at("type"), "invalid_request_error");
    EXPECT_EQ(error.at("message"), "Response with id 'resp_nope' not found.");
  }
}

stored_response earlier_turn() {
  chat_message question;
  question.role = message_role::user;
  question.text = "Read a.txt";
  chat_message call;
  call.role = message_role::assistant;
  call.tool_calls.push_back(tool_call{"call_7", "read", "{}", tool_kind::function});
  return stored_response{"resp_1", "{}", {question, call}};
}

TEST(responses_surface, input_may_be_left_out_when_continuing) {
  response_store store;
  store.put(earlier_turn(), 0);
  const chat_request r =
      parse(R"({"model":"m","previous_response_id":"resp_1"})", surface_context{cfg, &store, 1});
  EXPECT_EQ(r.messages.size(), 2u);
}

TEST(responses_surface, an_unknown_or_expired_previous_response_is_not_found) {
  response_store store({.max_count = 10, .max_age_ms = 1000, .max_bytes = 1 << 20});
  store.put(earlier_turn(), 0);
  const std::string body = R"({"model":"m","input":"x","previous_response_id":"resp_1"})";
  for (const surface_context& ctx : {surface_context{cfg, &store, 5000},
                                     surface_context{cfg, nullptr, 0}}) {
    const auto r = openai_responses_surface().parse(body, ctx);
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.error().code, errc::previous_response_not_found);
    EXPECT_EQ(http_status(r.error()), 404);  // issue 14: a 404 in the OpenAI error shape
    EXPECT_EQ(r.error().param, "previous_response_id");
    EXPECT_EQ(r.error().message, "Previous response with id 'resp_1' not found.");
  }
}

TEST(responses_failure, codes_are_the_ones_codex_acts_on) {
  EXPECT_EQ(failure_code(make_error(errc::rate_limited)), "rate_limit_exceeded");
  EXPECT_EQ(failure_code(make_error(errc::too_many_streams)), "rate_limit_exceeded");
  EXPECT_EQ(failure_code(make_error(errc::upstream_timeout)), "server_error");
  EXPECT_EQ(failure_code(make_error(errc::no_token_available)), "server_error");
  EXPECT_EQ(failure_code(make_error(errc::invalid_request)), "invalid_prompt");
}

TEST(responses_failure, a_rate_limit_message_carries_the_wait_in_codexs_words) {
  api_error e = make_error(errc::rate_limited, "Slow down.");
  e.retry_after_seconds = 12;
  EXPECT_EQ(failure_message(e), "Slow down. Please try again in 12s.");
  EXPECT_EQ(failure_message(make_error(errc::rate_limited, "Please try again in 3s.")),
            "Please try again in 3s.");
  EXPECT_EQ(failure_message(make_error(errc::upstream_error)),
            describe(errc::upstream_error).default_message);
}

}  // namespace
}  // namespace zai
