#include "core/api/openai_chat_tools.hpp"

#include <gtest/gtest.h>

#include "core/api/openai_chat_request.hpp"

namespace zai {
namespace {

constexpr std::string_view ask = R"([{"role":"user","content":"List the files."}])";
constexpr std::string_view two_tools =
    R"("tools":[{"type":"function","function":{"name":"read_file","description":"Reads a file.",
       "parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}},
      {"type":"function","function":{"name":"list_dir"}}])";

std::string body(std::string_view messages, std::string_view extra) {
  return R"({"model":"glm-4.7","messages":)" + std::string(messages) + "," + std::string(extra) +
         "}";
}

chat_request must_parse(const std::string& b) {
  const auto r = parse_chat_request(b);
  EXPECT_TRUE(r.has_value()) << b << "\n -> " << (r.has_error() ? r.error().message : "");
  return r.has_value() ? *r : chat_request{};
}

api_error must_fail(const std::string& b) {
  const auto r = parse_chat_request(b);
  EXPECT_TRUE(r.has_error()) << b;
  return r.has_error() ? r.error() : api_error{};
}

TEST(openai_tools, function_tools_keep_their_description_and_schema) {
  const chat_request r = must_parse(body(ask, two_tools));
  ASSERT_EQ(r.tools.size(), 2u);
  EXPECT_EQ(r.tools[0].name, "read_file");
  EXPECT_EQ(r.tools[0].description, "Reads a file.");
  EXPECT_EQ(r.tools[0].parameters,
            R"({"type":"object","properties":{"path":{"type":"string"}},"required":["path"]})");
  EXPECT_EQ(r.tools[0].kind, tool_kind::function);
  EXPECT_EQ(r.tools[1].parameters, "{}");  // no schema: no arguments
  EXPECT_EQ(r.tool_choice, tool_choice_mode::automatic);
  EXPECT_TRUE(r.parallel_tool_calls);
}

TEST(openai_tools, hosted_tool_types_are_ignored_and_custom_tools_kept) {
  const chat_request r = must_parse(body(ask, R"("tools":[{"type":"web_search"},
      {"type":"custom","custom":{"name":"apply_patch","description":"Edits files.",
       "format":{"type":"grammar","grammar":{"syntax":"lark","definition":"start: patch"}}}},
      {"type":"file_search","file_search":{}}])"));
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].kind, tool_kind::custom);
  EXPECT_EQ(r.tools[0].name, "apply_patch");
  EXPECT_EQ(r.tools[0].format, "start: patch");
}

TEST(openai_tools, every_tool_choice_form) {
  const std::pair<std::string_view, tool_choice_mode> cases[] = {
      {R"("tool_choice":"auto")", tool_choice_mode::automatic},
      {R"("tool_choice":"none")", tool_choice_mode::none},
      {R"("tool_choice":"required")", tool_choice_mode::required},
      {R"("tool_choice":{"type":"function","function":{"name":"list_dir"}})",
       tool_choice_mode::named},
      {R"("function_call":"none")", tool_choice_mode::none},
      {R"("function_call":{"name":"list_dir"})", tool_choice_mode::named},
      {R"("function_call":"none","tool_choice":"required")", tool_choice_mode::required},
  };
  for (const auto& [choice, mode] : cases) {
    const chat_request r =
        must_parse(body(ask, std::string(two_tools) + "," + std::string(choice)));
    EXPECT_EQ(r.tool_choice, mode) << choice;
    if (mode == tool_choice_mode::named) {
      EXPECT_EQ(r.tool_choice_name, "list_dir");
    }
  }
}

TEST(openai_tools, allowed_tools_narrow_the_offer) {
  const chat_request r = must_parse(
      body(ask, std::string(two_tools) + R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":
        {"mode":"required","tools":[{"type":"function","function":{"name":"list_dir"}}]}})"));
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "list_dir");
  EXPECT_EQ(r.tool_choice, tool_choice_mode::required);
}

TEST(openai_tools, legacy_functions_are_function_tools) {
  const chat_request r =
      must_parse(body(ask, R"("functions":[{"name":"get_weather","parameters":{"type":"object"}}],
              "function_call":{"name":"get_weather"})"));
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "get_weather");
  EXPECT_EQ(r.tool_choice, tool_choice_mode::named);
  EXPECT_EQ(r.tool_choice_name, "get_weather");
}

TEST(openai_tools, parallel_tool_calls_is_read) {
  EXPECT_FALSE(must_parse(body(ask, std::string(two_tools) + R"(,"parallel_tool_calls":false)"))
                   .parallel_tool_calls);
}

TEST(openai_tools, history_binds_results_to_their_calls) {
  const chat_request r = must_parse(body(
      R"([{"role":"user","content":"Read a and b."},
          {"role":"assistant","content":null,"tool_calls":[
             {"id":"call_a","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a\"}"}},
             {"id":"call_p","type":"custom","custom":{"name":"apply_patch","input":"*** Begin Patch"}}]},
          {"role":"tool","tool_call_id":"call_p","content":"Done."},
          {"role":"tool","tool_call_id":"call_a","content":"alpha"},
          {"role":"assistant","function_call":{"name":"list_dir","arguments":"{}"}},
          {"role":"function","name":"list_dir","content":"a b"}])",
      two_tools));
  ASSERT_EQ(r.messages[1].tool_calls.size(), 2u);
  EXPECT_EQ(r.messages[1].tool_calls[1].kind, tool_kind::custom);
  EXPECT_EQ(r.messages[1].tool_calls[1].arguments, "*** Begin Patch");
  EXPECT_EQ(r.messages[2].tool_name, "apply_patch");
  EXPECT_EQ(r.messages[3].tool_name, "read_file");
  ASSERT_EQ(r.messages[4].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[4].tool_calls[0].name, "list_dir");
  EXPECT_EQ(r.messages[5].tool_name, "list_dir");
}

TEST(openai_tools, each_problem_names_its_param) {
  const std::string tools(two_tools);
  const std::pair<std::string, std::string_view> cases[] = {
      {body(ask, R"("tools":{})"), "tools"},
      {body(ask, R"("tools":[7])"), "tools[0]"},
      {body(ask, R"("tools":[{"type":"function"}])"), "tools[0].function"},
      {body(ask, R"("tools":[{"type":"function","function":{}}])"), "tools[0].function.name"},
      {body(ask, R"("tools":[{"type":"function","function":{"name":"a b"}}])"),
       "tools[0].function.name"},
      {body(ask, R"("tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}])"),
       "tools[0].function.parameters"},
      {body(ask, R"("tools":[{"type":"function","function":{"name":"f"}},
                             {"type":"function","function":{"name":"f"}}])"),
       "tools[1]"},
      {body(ask, R"("functions":[{"description":"x"}])"), "functions[0].name"},
      {body(ask, tools + R"(,"tool_choice":"sometimes")"), "tool_choice"},
      {body(ask, R"("tool_choice":"required")"), "tool_choice"},
      {body(ask, tools + R"(,"tool_choice":{"type":"function","function":{"name":"rm"}})"),
       "tool_choice"},
      {body(ask, tools + R"(,"tool_choice":{"type":"function"})"), "tool_choice.function"},
      {body(ask, tools + R"(,"tool_choice":7)"), "tool_choice"},
      {body(ask, tools + R"(,"function_call":{"name":"rm"})"), "function_call"},
      {body(ask, tools + R"(,"function_call":"required")"), "function_call"},
      {body(ask, tools + R"(,"parallel_tool_calls":"no")"), "parallel_tool_calls"},
      {body(
           R"([{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_9","content":"r"}])",
           tools),
       "messages[1].tool_call_id"},
      {body(R"([{"role":"user","content":"x"},
                {"role":"assistant","tool_calls":[{"id":"a","type":"custom","custom":{"name":"p","input":1}}]}])",
            tools),
       "messages[1].tool_calls[0].custom.input"},
      {body(R"([{"role":"user","content":"x"},{"role":"assistant","function_call":"f"}])", tools),
       "messages[1].function_call"},
  };
  for (const auto& [b, param] : cases) {
    const api_error e = must_fail(b);
    EXPECT_EQ(e.code, errc::invalid_request) << b;
    EXPECT_EQ(e.param, param) << b << "\n -> " << e.message;
    EXPECT_NE(e.message.find(param), std::string::npos) << e.message;
  }
}

TEST(openai_tools, a_result_must_follow_its_call) {
  // The id exists, but only in a later assistant turn: the result answers nothing yet.
  const api_error e = must_fail(body(
      R"([{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_1","content":"r"},
          {"role":"assistant","tool_calls":[{"id":"call_1","function":{"name":"list_dir","arguments":"{}"}}]}])",
      two_tools));
  EXPECT_EQ(e.param, "messages[1].tool_call_id");
}

}  // namespace
}  // namespace zai
