// The completion flow with tools offered: the prompt the upstream gets, calls parsed back out of
// the answer's text as OpenAI tool calls (streamed and whole), the one retry when a required
// call did not come, and call markup removed when no tool may be called.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/flow/completion_flow.hpp"
#include "flow_test_support.hpp"

namespace zai {
namespace {

using namespace zai::testing;
namespace json = boost::json;

constexpr std::string_view read_tool =
    R"([{"type":"function","function":{"name":"read_file","description":"Reads a file.",)"
    R"("parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}}])";

// An upstream answer whose text arrives in the given pieces.
std::string answer_stream(std::initializer_list<std::string_view> pieces) {
  std::string body;
  for (std::string_view p : pieces) {
    json::object delta{{"delta_content", p}, {"phase", "answer"}};
    body += testing::completion(json::serialize(delta).substr(1, json::serialize(delta).size() - 2));
  }
  body += testing::completion(R"("phase":"done","done":true)");
  return body;
}

// The content deltas of an OpenAI stream, joined.
std::string streamed_content(const std::string& sse) {
  std::string content;
  for (std::size_t pos = 0; (pos = sse.find("data: {", pos)) != std::string::npos; ++pos) {
    const json::value chunk = json::parse(sse.substr(pos + 6, sse.find("\n\n", pos) - pos - 6));
    const auto& delta = chunk.at("choices").at(0).at("delta").as_object();
    if (const auto* c = delta.if_contains("content")) content += c->as_string();
  }
  return content;
}

const std::string glm_call = "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>notes.txt</arg_value>\n</tool_call>";

struct tools_flow_test : flow_test {
  std::unique_ptr<completion_flow> start_with(bool stream, std::string_view extra = "") {
    const std::string body = std::string(R"({"model":"glm-4.7","stream":)") +
                             (stream ? "true" : "false") +
                             R"(,"messages":[{"role":"user","content":"Read notes.txt"}],"tools":)" +
                             std::string(read_tool) + std::string(extra) + "}";
    auto opened = g.open({"POST", "/v1/chat/completions", "Bearer k", ""}, body, false, at(t0));
    EXPECT_TRUE(opened.flow) << (opened.response ? opened.response->body : "");
    return std::move(opened.flow);
  }

  // Sends the request upstream and answers it with `body`; returns the flow's last action.
  action answer_with(completion_flow& c, const std::string& body) {
    EXPECT_EQ(c.next(at(t0)), action::fetch);
    EXPECT_EQ(c.on_response(200, "text/event-stream", "", "", at(t0)), action::read);
    return feed(c, body);
  }
};

TEST_F(tools_flow_test, the_prompt_describes_the_tools_and_binds_calls_with_a_nonce) {
  auto c = start_with(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  const json::value body = json::parse(c->upstream().body);
  const std::string prompt(body.at("signature_prompt").as_string());
  EXPECT_NE(prompt.find("read_file"), std::string::npos);
  EXPECT_NE(prompt.find("<tool_call nonce=\""), std::string::npos);
  EXPECT_NE(prompt.find("Read notes.txt"), std::string::npos);
  EXPECT_EQ(body.at("features").at("web_search"), false);  // the tools answer, not a search
}

TEST_F(tools_flow_test, a_streamed_call_becomes_openai_tool_call_deltas) {
  auto c = start_with(true);
  ASSERT_EQ(answer_with(*c, answer_stream({"Let me look.\n", glm_call.substr(0, 20),
                                          glm_call.substr(20)})),
            action::end_stream);
  EXPECT_EQ(streamed_content(written), "Let me look.") << written;
  EXPECT_NE(written.find(R"("type":"function","function":{"name":"read_file","arguments":""})"),
            std::string::npos)
      << written;
  EXPECT_NE(written.find(R"("id":"call_)"), std::string::npos);
  EXPECT_NE(written.find(R"("finish_reason":"tool_calls")"), std::string::npos);
  EXPECT_EQ(written.find("<tool_call>"), std::string::npos) << "markup never reaches the client";
}

TEST_F(tools_flow_test, a_whole_answer_carries_tool_calls_and_null_content) {
  auto c = start_with(false);
  ASSERT_EQ(answer_with(*c, answer_stream({glm_call})), action::respond);
  const json::value body = json::parse(c->response().body);
  const auto& message = body.at("choices").at(0).at("message");
  EXPECT_TRUE(message.at("content").is_null());
  const auto& call = message.at("tool_calls").at(0);
  EXPECT_TRUE(call.at("id").as_string().starts_with("call_"));
  EXPECT_EQ(call.at("function").at("name"), "read_file");
  EXPECT_EQ(json::parse(call.at("function").at("arguments").as_string()).at("path"), "notes.txt");
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason"), "tool_calls");
}

TEST_F(tools_flow_test, a_required_call_that_did_not_come_is_asked_for_once_invisibly) {
  auto c = start_with(true, R"(,"tool_choice":"required")");
  ASSERT_EQ(answer_with(*c, answer_stream({"I would read the file now."})), action::fetch);
  EXPECT_EQ(written.find("I would read"), std::string::npos) << "the missed answer was held back";
  const json::value retry = json::parse(c->upstream().body);
  EXPECT_NE(std::string(retry.at("signature_prompt").as_string()).find("I would read the file now."),
            std::string::npos);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  ASSERT_EQ(feed(*c, answer_stream({glm_call})), action::end_stream);
  EXPECT_NE(written.find(R"("finish_reason":"tool_calls")"), std::string::npos) << written;
}

TEST_F(tools_flow_test, a_second_answer_without_the_required_call_is_returned_as_text) {
  auto c = start_with(false, R"(,"tool_choice":"required")");
  ASSERT_EQ(answer_with(*c, answer_stream({"No."})), action::fetch);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  ASSERT_EQ(feed(*c, answer_stream({"Still no."})), action::respond);
  const json::value body = json::parse(c->response().body);
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content"), "Still no.");
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason"), "stop");
}

TEST_F(tools_flow_test, with_tool_choice_none_the_tools_are_not_shown_and_stray_markup_is_removed) {
  auto c = start_with(false, R"(,"tool_choice":"none")");
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  const json::value request = json::parse(c->upstream().body);
  EXPECT_EQ(std::string(request.at("signature_prompt").as_string()).find("read_file"),
            std::string::npos);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  ASSERT_EQ(feed(*c, answer_stream({"Here it is. ", glm_call})), action::respond);
  const json::value body = json::parse(c->response().body);
  const auto& message = body.at("choices").at(0).at("message").as_object();
  EXPECT_EQ(message.at("content"), "Here it is.");
  EXPECT_FALSE(message.contains("tool_calls"));
}

}  // namespace
}  // namespace zai
