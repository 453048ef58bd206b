#include "core/api/openai_chat_response.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <vector>

namespace zai {
namespace {

namespace json = boost::json;

completion_meta meta() { return {"chatcmpl-abc", 1782413241, "glm-4.7"}; }

// Splits `data: …\n\n` events and parses each JSON payload ('[DONE]' kept as a string).
std::vector<json::value> events(const std::string& sse) {
  std::vector<json::value> out;
  std::size_t pos = 0;
  while (pos < sse.size()) {
    const auto end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event";
    if (end == std::string::npos) break;
    const auto line = sse.substr(pos, end - pos);
    EXPECT_EQ(line.rfind("data: ", 0), 0u) << line;
    const auto payload = line.substr(6);
    out.push_back(payload == "[DONE]" ? json::value(payload) : json::parse(payload));
    pos = end + 2;
  }
  return out;
}

TEST(chunk_writer, first_chunk_carries_role_and_every_chunk_shares_id_and_created) {
  chunk_writer w(meta(), false, false);
  std::string out;
  w.reasoning("think", out);
  w.content("Hi", out);
  w.finish(finish_reason::stop, out);
  w.usage({1, 2, 3, 0, true}, out);
  w.done(out);
  const auto ev = events(out);
  ASSERT_EQ(ev.size(), 4u);  // no usage chunk without include_usage
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ev[i].at("id"), "chatcmpl-abc");
    EXPECT_EQ(ev[i].at("created"), 1782413241);
    EXPECT_EQ(ev[i].at("object"), "chat.completion.chunk");
    EXPECT_EQ(ev[i].at("model"), "glm-4.7");
    EXPECT_FALSE(ev[i].as_object().contains("usage"));
  }
  const auto& d0 = ev[0].at("choices").at(0).at("delta");
  EXPECT_EQ(d0.at("role"), "assistant");
  EXPECT_EQ(d0.at("reasoning_content"), "think");
  EXPECT_FALSE(ev[1].at("choices").at(0).at("delta").as_object().contains("role"));
  EXPECT_EQ(ev[1].at("choices").at(0).at("delta").at("content"), "Hi");
  EXPECT_TRUE(ev[1].at("choices").at(0).at("finish_reason").is_null());
  EXPECT_EQ(ev[2].at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_TRUE(ev[2].at("choices").at(0).at("delta").as_object().empty());
  EXPECT_EQ(ev[3], "[DONE]");
}

TEST(chunk_writer, include_usage_adds_one_usage_chunk_with_empty_choices_before_done) {
  chunk_writer w(meta(), false, true);
  std::string out;
  w.content("x", out);
  w.finish(finish_reason::length, out);
  w.usage({12, 9, 21, 4, true}, out);
  w.done(out);
  const auto ev = events(out);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_TRUE(ev[0].at("usage").is_null());
  EXPECT_TRUE(ev[1].at("usage").is_null());
  EXPECT_EQ(ev[1].at("choices").at(0).at("finish_reason"), "length");
  EXPECT_TRUE(ev[2].at("choices").as_array().empty());
  EXPECT_EQ(ev[2].at("usage").at("prompt_tokens"), 12);
  EXPECT_EQ(ev[2].at("usage").at("completion_tokens"), 9);
  EXPECT_EQ(ev[2].at("usage").at("total_tokens"), 21);
  EXPECT_EQ(ev[2].at("usage").at("prompt_tokens_details").at("cached_tokens"), 4);
  EXPECT_EQ(ev[3], "[DONE]");
}

TEST(chunk_writer, think_tags_wrap_reasoning_in_content) {
  chunk_writer w(meta(), true, false);
  std::string out;
  w.reasoning("a", out);
  w.reasoning("b", out);
  w.content("answer", out);
  w.finish(finish_reason::stop, out);
  std::string content;
  for (const auto& e : events(out)) {
    if (!e.is_object()) continue;
    const auto& delta = e.at("choices").at(0).at("delta").as_object();
    EXPECT_FALSE(delta.contains("reasoning_content"));
    if (const auto* c = delta.if_contains("content")) content += c->as_string().c_str();
  }
  EXPECT_EQ(content, "<think>\nab\n</think>\n\nanswer");
}

TEST(chunk_writer, think_tags_are_closed_when_the_stream_ends_inside_reasoning) {
  chunk_writer w(meta(), true, false);
  std::string out;
  w.reasoning("only thoughts", out);
  w.finish(finish_reason::stop, out);
  EXPECT_NE(out.find("\\n</think>"), std::string::npos);
}

TEST(chunk_writer, finish_without_any_text_still_sends_the_role) {
  chunk_writer w(meta(), false, false);
  std::string out;
  w.finish(finish_reason::content_filter, out);
  const auto ev = events(out);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].at("choices").at(0).at("delta").at("role"), "assistant");
  EXPECT_EQ(ev[0].at("choices").at(0).at("finish_reason"), "content_filter");
}

TEST(chunk_writer, escapes_text_into_valid_json) {
  chunk_writer w(meta(), false, false);
  std::string out;
  const std::string tricky = "quote \" backslash \\ newline \n tab \t ctl \x01 emoji 👍";
  w.content(tricky, out);
  const auto ev = events(out);
  EXPECT_EQ(json::value_to<std::string>(ev[0].at("choices").at(0).at("delta").at("content")), tricky);
}

TEST(completion_body, has_reasoning_content_and_usage) {
  const auto body = completion_body(
      meta(), {"why", "what", {}, finish_reason::stop, {20, 31, 51, 0, true}}, false);
  const auto v = json::parse(body);
  EXPECT_EQ(v.at("object"), "chat.completion");
  const auto& m = v.at("choices").at(0).at("message");
  EXPECT_EQ(m.at("role"), "assistant");
  EXPECT_EQ(m.at("content"), "what");
  EXPECT_EQ(m.at("reasoning_content"), "why");
  EXPECT_EQ(v.at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_EQ(v.at("usage").at("total_tokens"), 51);
}

TEST(completion_body, think_tags_put_reasoning_in_content) {
  const auto v = json::parse(
      completion_body(meta(), {"why", "what", {}, finish_reason::stop, {}}, true));
  const auto& m = v.at("choices").at(0).at("message").as_object();
  EXPECT_EQ(m.at("content"), "<think>\nwhy\n</think>\n\nwhat");
  EXPECT_FALSE(m.contains("reasoning_content"));
}

TEST(completion_body, omits_reasoning_content_when_there_was_none) {
  const auto v =
      json::parse(completion_body(meta(), {"", "what", {}, finish_reason::stop, {}}, false));
  EXPECT_FALSE(v.at("choices").at(0).at("message").as_object().contains("reasoning_content"));
}

TEST(completion_body, tool_calls_with_no_text_have_null_content) {
  const answer a{"", "", {{"call_1", "read_file", R"({"path":"a.txt"})"}}, finish_reason::tool_calls,
                 {}};
  const auto v = json::parse(completion_body(meta(), a, false));
  const auto& choice = v.at("choices").at(0);
  EXPECT_TRUE(choice.at("message").at("content").is_null());
  const auto& call = choice.at("message").at("tool_calls").at(0);
  EXPECT_EQ(call.at("id"), "call_1");
  EXPECT_EQ(call.at("type"), "function");
  EXPECT_EQ(call.at("function").at("name"), "read_file");
  EXPECT_EQ(call.at("function").at("arguments"), R"({"path":"a.txt"})");
  EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
}

TEST(chunk_writer, tool_calls_stream_as_openai_deltas) {
  chunk_writer w(meta(), false, false);
  std::string out;
  w.content("Let me look.", out);
  w.tool_call_start(0, "call_9", "read_file", tool_kind::function, out);
  w.tool_call_arguments(0, R"({"path":)", tool_kind::function, out);
  w.tool_call_arguments(0, R"("a.txt"})", tool_kind::function, out);
  w.finish(finish_reason::tool_calls, out);
  const auto ev = events(out);
  ASSERT_EQ(ev.size(), 5u);
  const auto& first = ev[1].at("choices").at(0).at("delta").at("tool_calls").at(0);
  EXPECT_EQ(first.at("index"), 0);
  EXPECT_EQ(first.at("id"), "call_9");
  EXPECT_EQ(first.at("type"), "function");
  EXPECT_EQ(first.at("function").at("name"), "read_file");
  EXPECT_EQ(first.at("function").at("arguments"), "");
  std::string arguments;
  for (int i : {2, 3}) {
    const auto& d = ev[i].at("choices").at(0).at("delta").at("tool_calls").at(0);
    EXPECT_EQ(d.at("index"), 0);
    EXPECT_FALSE(d.as_object().contains("id"));
    arguments += json::value_to<std::string>(d.at("function").at("arguments"));
  }
  EXPECT_EQ(json::parse(arguments).at("path"), "a.txt");
  EXPECT_EQ(ev[4].at("choices").at(0).at("finish_reason"), "tool_calls");
}

TEST(chunk_writer, legacy_functions_get_a_function_call_delta_and_finish) {
  chunk_writer w(meta(), false, false, true);
  std::string out;
  w.tool_call_start(0, "call_9", "get_weather", tool_kind::function, out);
  w.tool_call_arguments(0, R"({"city":"Paris"})", tool_kind::function, out);
  w.finish(finish_reason::tool_calls, out);
  const auto ev = events(out);
  ASSERT_EQ(ev.size(), 3u);
  const auto& start = ev[0].at("choices").at(0).at("delta").as_object();
  EXPECT_FALSE(start.contains("tool_calls"));
  EXPECT_EQ(start.at("function_call").at("name"), "get_weather");
  EXPECT_EQ(ev[1].at("choices").at(0).at("delta").at("function_call").at("arguments"),
            R"({"city":"Paris"})");
  EXPECT_EQ(ev[2].at("choices").at(0).at("finish_reason"), "function_call");

  const answer a{"", "", {{"call_9", "get_weather", R"({"city":"Paris"})"}},
                 finish_reason::tool_calls, {}};
  const auto body = json::parse(completion_body(meta(), a, false, true));
  const auto& message = body.at("choices").at(0).at("message").as_object();
  EXPECT_FALSE(message.contains("tool_calls"));
  EXPECT_EQ(message.at("function_call").at("name"), "get_weather");
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason"), "function_call");
}

TEST(estimate_usage, counts_about_four_bytes_per_token) {
  const auto u = estimate_usage(40, 9);
  EXPECT_EQ(u.prompt_tokens, 10u);
  EXPECT_EQ(u.completion_tokens, 3u);
  EXPECT_EQ(u.total_tokens, 13u);
}

}  // namespace
}  // namespace zai
