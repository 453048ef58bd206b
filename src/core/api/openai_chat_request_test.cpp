#include "core/api/openai_chat_request.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

chat_request must_parse(std::string_view body) {
  const auto r = parse_chat_request(body);
  EXPECT_TRUE(r.has_value()) << body << "\n -> " << (r.has_error() ? r.error().message : "");
  return r.has_value() ? *r : chat_request{};
}

api_error must_fail(std::string_view body) {
  const auto r = parse_chat_request(body);
  EXPECT_TRUE(r.has_error()) << body;
  return r.has_error() ? r.error() : api_error{};
}

// A body with the given messages array and extra top-level members.
std::string body_with(std::string_view messages, std::string_view extra = "") {
  std::string out = R"({"model":"glm-4.7","messages":)" + std::string(messages);
  if (!extra.empty()) out += "," + std::string(extra);
  return out + "}";
}

constexpr std::string_view hello = R"([{"role":"user","content":"Hello!"}])";

TEST(openai_request, parses_the_minimal_request) {
  const chat_request r = must_parse(body_with(hello));
  EXPECT_EQ(r.model, "glm-4.7");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, message_role::user);
  EXPECT_EQ(r.messages[0].text, "Hello!");
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.include_usage);
  EXPECT_FALSE(r.temperature || r.top_p || r.max_tokens || r.enable_thinking);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_TRUE(r.tools.empty());
  EXPECT_EQ(r.tool_choice, tool_choice_mode::automatic);
}

TEST(openai_request, reads_every_supported_field) {
  const chat_request r = must_parse(body_with(
      R"([{"role":"system","content":"Be brief."},
          {"role":"developer","content":"Use English."},
          {"role":"user","name":"ann","content":[{"type":"text","text":"Part one"},
                                                 {"type":"text","text":"part two"}]},
          {"role":"assistant","content":null,"reasoning_content":"secret","reasoning":"x",
           "tool_calls":[{"id":"call_1","type":"function",
                          "function":{"name":"lookup","arguments":"{\"q\":1}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"42"},
          {"role":"assistant","content":[{"type":"refusal","refusal":"No."}]}])",
      R"("stream":true,"stream_options":{"include_usage":true},"temperature":0.5,"top_p":1,
         "max_tokens":100,"max_completion_tokens":200,"stop":["\n\n","END"],"user":"u-1","n":1,
         "tools":[{"type":"function","function":{"name":"lookup"}}],"tool_choice":"auto",
         "response_format":{"type":"text"},"some_future_field":{"x":1})"));
  ASSERT_EQ(r.messages.size(), 6u);
  EXPECT_EQ(r.messages[1].role, message_role::developer);
  EXPECT_EQ(r.messages[2].text, "Part one\npart two");
  EXPECT_EQ(r.messages[2].name, "ann");
  EXPECT_EQ(r.messages[3].text, "");
  ASSERT_EQ(r.messages[3].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[3].tool_calls[0].id, "call_1");
  EXPECT_EQ(r.messages[3].tool_calls[0].name, "lookup");
  EXPECT_EQ(r.messages[3].tool_calls[0].arguments, R"({"q":1})");
  EXPECT_EQ(r.messages[4].role, message_role::tool);
  EXPECT_EQ(r.messages[4].tool_call_id, "call_1");
  EXPECT_EQ(r.messages[5].text, "No.");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.temperature, 0.5);
  EXPECT_EQ(r.top_p, 1.0);
  EXPECT_EQ(r.max_tokens, 200);  // max_completion_tokens wins
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_EQ(r.user, "u-1");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "lookup");
  EXPECT_EQ(r.messages[4].tool_name, "lookup");
}

TEST(openai_request, nulls_mean_not_given) {
  const chat_request r = must_parse(
      body_with(hello, R"("stream":null,"stream_options":null,"temperature":null,"max_tokens":null,
                "stop":null,"user":null,"thinking":null,"tools":null)"));
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.temperature);
  EXPECT_FALSE(r.enable_thinking);
}

TEST(openai_request, single_stop_string_becomes_a_list) {
  EXPECT_EQ(must_parse(body_with(hello, R"("stop":"###")")).stop, std::vector<std::string>{"###"});
}

TEST(openai_request, thinking_toggles_and_their_precedence) {
  const std::pair<std::string_view, std::optional<bool>> cases[] = {
      {R"("thinking":{"type":"enabled"})", true},
      {R"("thinking":{"type":"disabled","budget_tokens":10})", false},
      {R"("enable_thinking":false)", false},
      {R"("chat_template_kwargs":{"enable_thinking":true})", true},
      {R"("reasoning_effort":"none")", false},
      {R"("reasoning_effort":"high")", true},
      {R"("thinking":{"type":"disabled"},"enable_thinking":true,"reasoning_effort":"high")", false},
      {R"("enable_thinking":true,"reasoning_effort":"none")", true},
      {R"("chat_template_kwargs":{},"reasoning_effort":"low")", true},
      {R"("thinking":true)", true},
  };
  for (const auto& [extra, expected] : cases) {
    EXPECT_EQ(must_parse(body_with(hello, extra)).enable_thinking, expected) << extra;
  }
  EXPECT_EQ(must_parse(body_with(hello, R"("reasoning_effort":"max")")).reasoning_effort, "max");
}

TEST(openai_request, malformed_json_is_invalid_json) {
  for (std::string_view body : {"", "{", "{\"model\":}", "{} trailing", "\xff\xfe"}) {
    const api_error e = must_fail(body);
    EXPECT_EQ(e.code, errc::invalid_json) << body;
    EXPECT_EQ(http_status(e), 400);
  }
}

TEST(openai_request, non_object_body_is_a_400) {
  for (std::string_view body : {"[]", "\"hi\"", "42", "null"}) {
    const api_error e = must_fail(body);
    EXPECT_EQ(e.code, errc::invalid_request) << body;
    EXPECT_EQ(e.param, "");
  }
}

TEST(openai_request, each_problem_names_its_param) {
  const std::pair<std::string, std::string_view> cases[] = {
      {R"({"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":null,"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":7,"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"","messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"glm-4.7"})", "messages"},
      {body_with(R"({"role":"user"})"), "messages"},
      {body_with("[]"), "messages"},
      {body_with(R"([{"role":"user","content":""}])"), "messages"},
      {body_with(R"(["hi"])"), "messages[0]"},
      {body_with(R"([{"content":"x"}])"), "messages[0].role"},
      {body_with(R"([{"role":1,"content":"x"}])"), "messages[0].role"},
      {body_with(R"([{"role":"bot","content":"x"}])"), "messages[0].role"},
      {body_with(R"([{"role":"user","content":"a"},{"role":"user"}])"), "messages[1].content"},
      {body_with(R"([{"role":"user","content":"a"},{"role":"user","content":"b"},
                     {"role":"user","content":{"text":"c"}}])"),
       "messages[2].content"},
      {body_with(R"([{"role":"user","content":[{"text":"c"}]}])"), "messages[0].content[0].type"},
      {body_with(R"([{"role":"user","content":["c"]}])"), "messages[0].content[0]"},
      {body_with(R"([{"role":"user","content":[{"type":"text"}]}])"),
       "messages[0].content[0].text"},
      {body_with(R"([{"role":"user","content":[{"type":"text","text":5}]}])"),
       "messages[0].content[0].text"},
      {body_with(R"([{"role":"user","content":[{"type":"video","url":"x"}]}])"),
       "messages[0].content[0].type"},
      {body_with(R"([{"role":"user","content":"x","name":3}])"), "messages[0].name"},
      {body_with(R"([{"role":"user","content":"x"},{"role":"tool","content":"r"}])"),
       "messages[1].tool_call_id"},
      {body_with(R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":{}}])"),
       "messages[1].tool_calls"},
      {body_with(
           R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"a"}]}])"),
       "messages[1].tool_calls[0].function"},
      {body_with(hello, R"("stream":"yes")"), "stream"},
      {body_with(hello, R"("stream_options":true)"), "stream_options"},
      {body_with(hello, R"("stream_options":{"include_usage":1})"), "stream_options.include_usage"},
      {body_with(hello, R"("temperature":"hot")"), "temperature"},
      {body_with(hello, R"("temperature":2.5)"), "temperature"},
      {body_with(hello, R"("top_p":-0.1)"), "top_p"},
      {body_with(hello, R"("max_tokens":0)"), "max_tokens"},
      {body_with(hello, R"("max_tokens":1.5)"), "max_tokens"},
      {body_with(hello, R"("max_completion_tokens":"9")"), "max_completion_tokens"},
      {body_with(hello, R"("n":2)"), "n"},
      {body_with(hello, R"("stop":7)"), "stop"},
      {body_with(hello, R"("stop":["a",1])"), "stop[1]"},
      {body_with(hello, R"("user":{})"), "user"},
      {body_with(hello, R"("thinking":"on")"), "thinking"},
      {body_with(hello, R"("thinking":{"type":"auto"})"), "thinking.type"},
      {body_with(hello, R"("enable_thinking":"true")"), "enable_thinking"},
      {body_with(hello, R"("chat_template_kwargs":{"enable_thinking":1})"),
       "chat_template_kwargs.enable_thinking"},
      {body_with(hello, R"("reasoning_effort":"extreme")"), "reasoning_effort"},
      {body_with(hello, R"("tools":{})"), "tools"},
  };
  for (const auto& [body, param] : cases) {
    const api_error e = must_fail(body);
    EXPECT_EQ(e.code, errc::invalid_request) << body;
    EXPECT_EQ(e.param, param) << body << "\n -> " << e.message;
    EXPECT_NE(e.message.find(param), std::string::npos) << e.message;
  }
}

TEST(openai_request, messages_read_like_openai_errors) {
  EXPECT_EQ(must_fail(body_with(R"([{"role":"user","content":5}])")).message,
            "Invalid type for 'messages[0].content': expected a string or an array of content "
            "parts, but got an integer instead.");
  EXPECT_EQ(must_fail(R"({"model":"glm-4.7"})").message, "Missing required parameter: 'messages'.");
}

TEST(openai_request, image_parts_are_refused_clearly) {
  const api_error e = must_fail(body_with(
      R"([{"role":"user","content":[{"type":"text","text":"What is this?"},
          {"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}])"));
  EXPECT_EQ(e.code, errc::invalid_request);
  EXPECT_EQ(e.param, "messages[0].content[1]");
  EXPECT_NE(e.message.find("image_url"), std::string::npos);
  EXPECT_NE(e.message.find("not supported"), std::string::npos);
}

TEST(openai_request, legacy_function_role_is_a_tool_result) {
  const chat_request r = must_parse(
      body_with(R"([{"role":"user","content":"x"},{"role":"function","name":"f","content":"1"}])"));
  EXPECT_EQ(r.messages[1].role, message_role::tool);
  EXPECT_EQ(r.messages[1].name, "f");
}

TEST(openai_request, role_names_round_trip) {
  for (message_role role : {message_role::system, message_role::developer, message_role::user,
                            message_role::assistant, message_role::tool}) {
    // A tool result must answer an earlier call, so one is made first.
    const std::string body =
        body_with(R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"t",)"
                  R"("function":{"name":"f","arguments":"{}"}}]},{"role":")" +
                  std::string(role_name(role)) + R"(","content":"y","tool_call_id":"t"}])");
    EXPECT_EQ(must_parse(body).messages[2].role, role) << role_name(role);
  }
}

}  // namespace
}  // namespace zai
