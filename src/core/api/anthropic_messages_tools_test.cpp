// The Messages parser's tools, tool_choice and count_tokens, and a body recorded in the shape
// Claude Code 2.1.328 sends (test/fixtures/anthropic/claude_code_request.json).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/api/anthropic_messages.hpp"

namespace zai {
namespace {

// A request offering `tools` (a JSON array) with `more` members after it.
result<chat_request> offer(std::string_view tools, std::string_view more = "") {
  return parse_messages_request(R"({"model":"m","max_tokens":8,"messages":[{"role":"user",
      "content":"go"}],"tools":)" + std::string(tools) + std::string(more) + "}");
}

std::vector<std::string> tool_names(const chat_request& r) {
  std::vector<std::string> names;
  for (const tool_definition& t : r.tools) names.push_back(t.name);
  return names;
}

constexpr std::string_view read_and_search = R"([
    {"name":"Read","description":"Reads a file.","input_schema":{"type":"object",
     "properties":{"file_path":{"type":"string"}},"required":["file_path"]},
     "cache_control":{"type":"ephemeral"}},
    {"type":"web_search_20250305","name":"web_search","max_uses":5},
    {"type":"bash_20250124","name":"bash"},
    {"type":"text_editor_20250728","name":"str_replace_based_edit_tool"},
    {"type":"custom","name":"Lint","input_schema":{"type":"object"}},
    {"name":"Hidden","input_schema":{"type":"object"},"defer_loading":true}])";

TEST(anthropic_tools, client_tools_are_kept_server_tools_ignored_deferred_held_back) {
  const auto r = offer(read_and_search);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(tool_names(*r), (std::vector<std::string>{"Read", "Lint"}));
  EXPECT_FALSE(r->tools.empty());
  EXPECT_EQ(r->tools[0].description, "Reads a file.");
  EXPECT_EQ(r->tools[0].parameters,
            R"({"type":"object","properties":{"file_path":{"type":"string"}},)"
            R"("required":["file_path"]})");
  EXPECT_EQ(r->tools[0].kind, tool_kind::function);
  EXPECT_EQ(r->tools[1].description, "");
}

TEST(anthropic_tools, only_server_tools_means_no_tools) {
  const auto r = offer(R"([{"type":"web_search_20250305","name":"web_search"}])");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->tools.empty());
  EXPECT_TRUE(r->tools.empty());
}

TEST(anthropic_tools, a_deferred_tool_is_shown_once_a_tool_reference_loads_it) {
  const std::string body = R"({"model":"m","max_tokens":8,"tools":)" +
                           std::string(read_and_search) + R"(,"messages":[
      {"role":"user","content":"find the hidden tool"},
      {"role":"assistant","content":[{"type":"tool_use","id":"toolu_s","name":"ToolSearch",
        "input":{"query":"hidden"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_s","content":[
        {"type":"tool_reference","tool_name":"Hidden"}]}]}]})";
  const auto r = parse_messages_request(body);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(tool_names(*r), (std::vector<std::string>{"Read", "Lint", "Hidden"}));
  EXPECT_EQ(r->messages.back().text, "Tool loaded: Hidden");
}

TEST(anthropic_tools, tool_choice_maps_to_the_neutral_modes) {
  const std::pair<std::string_view, tool_choice_mode> cases[] = {
      {R"({"type":"auto"})", tool_choice_mode::automatic},
      {R"({"type":"any"})", tool_choice_mode::required},
      {R"({"type":"none"})", tool_choice_mode::none},
      {R"({"type":"tool","name":"Lint"})", tool_choice_mode::named},
  };
  for (const auto& [choice, mode] : cases) {
    const auto r = offer(read_and_search, R"(,"tool_choice":)" + std::string(choice));
    ASSERT_TRUE(r.has_value()) << choice;
    EXPECT_EQ(r->tool_choice, mode) << choice;
    EXPECT_TRUE(r->parallel_tool_calls);
  }
  const auto named = offer(read_and_search, R"(,"tool_choice":{"type":"tool","name":"Lint",
      "disable_parallel_tool_use":true})");
  ASSERT_TRUE(named.has_value());
  EXPECT_EQ(named->tool_choice_name, "Lint");
  EXPECT_FALSE(named->parallel_tool_calls);
}

TEST(anthropic_tools, naming_a_deferred_tool_in_tool_choice_shows_it) {
  const auto r = offer(read_and_search, R"(,"tool_choice":{"type":"tool","name":"Hidden"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(tool_names(*r), (std::vector<std::string>{"Read", "Lint", "Hidden"}));
}

TEST(anthropic_tools, bad_tools_and_choices_are_refused_naming_the_param) {
  const std::tuple<std::string_view, std::string_view, std::string_view> cases[] = {
      {R"({"name":"x"})", "", "tools: Input should be a valid list"},
      {R"([{"name":"x"}])", "", "tools.0.input_schema: Field required"},
      {R"([{"input_schema":{}}])", "", "tools.0.name: Field required"},
      {R"([{"name":"x","input_schema":[]}])", "",
       "tools.0.input_schema: Input should be a valid dictionary"},
      {R"([{"name":"x","input_schema":{}},{"name":"x","input_schema":{}}])", "",
       "tools.1.name: Tool names must be unique."},
      {R"([{"name":"x","input_schema":{},"description":3}])", "",
       "tools.0.description: Input should be a valid string"},
      {"[]", R"(,"tool_choice":{"type":"tool","name":"Grep"})",
       "tool_choice.name: Tool 'Grep' not found in 'tools'."},
      {"[]", R"(,"tool_choice":{"type":"tool"})", "tool_choice.name: Field required"},
      {"[]", R"(,"tool_choice":"auto")", "tool_choice: Input should be a valid dictionary"},
      {"[]", R"(,"tool_choice":{"type":"required"})",
       "tool_choice: Input tag 'required' found using 'type' does not match any of the "
       "expected tags: 'auto', 'any', 'tool', 'none'"},
      {"[]", R"(,"tool_choice":{"type":"auto","disable_parallel_tool_use":1})",
       "tool_choice.disable_parallel_tool_use: Input should be a valid boolean"},
  };
  for (const auto& [tools, more, message] : cases) {
    const auto r = offer(tools, more);
    ASSERT_TRUE(r.has_error()) << tools << more;
    EXPECT_EQ(r.error().message, message);
  }
  EXPECT_EQ(offer(R"([{"name":"x","input_schema":7}])").error().param, "tools[0].input_schema");
}

TEST(anthropic_tools, count_tokens_takes_the_same_body_without_max_tokens) {
  const auto r = parse_count_tokens_request(
      R"({"model":"claude-haiku-4-5","system":"s","messages":[{"role":"user","content":"x"}],
          "tools":[{"name":"t","input_schema":{"type":"object"}}],
          "thinking":{"type":"enabled","budget_tokens":2000}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->max_tokens.has_value());
  EXPECT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->tools.size(), 1u);
  EXPECT_EQ(count_tokens_body(1234), R"({"input_tokens":1234})");
  EXPECT_EQ(parse_count_tokens_request(R"({"model":"m","messages":[]})").error().message,
            "messages: at least one message is required");
}

std::string claude_code_body() {
  std::ifstream in(std::string(ZAI_SOURCE_DIR) +
                   "/test/fixtures/anthropic/claude_code_request.json");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The shape Claude Code 2.1.328 sends (agent-surfaces.md §7): system blocks led by the billing
// header, a system message mid-conversation, a thinking + tool_use turn, a tool_result with
// cache_control, 12 tools of which one is deferred, and context_management, output_config and
// metadata, which must not be refused.
TEST(anthropic_tools, a_claude_code_body_parses_into_the_conversation_it_holds) {
  const std::string json = claude_code_body();
  ASSERT_FALSE(json.empty());
  static const config cfg;
  const auto parsed = anthropic_messages_surface().parse(json, surface_context{cfg});
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const chat_request& r = *parsed;
  EXPECT_EQ(r.model, "claude-sonnet-5-5");
  EXPECT_EQ(r.max_tokens, 32000);
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.enable_thinking, true);

  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_EQ(r.messages[0].role, message_role::system);
  EXPECT_EQ(r.messages[0].text.find("x-anthropic-billing-header"), std::string::npos);
  EXPECT_EQ(r.messages[0].text.rfind("You are Claude Code", 0), 0u);
  EXPECT_EQ(r.messages[1].role, message_role::user);
  EXPECT_NE(r.messages[1].text.find("<system-reminder>"), std::string::npos);
  EXPECT_NE(r.messages[1].text.find("What does notes.txt say?"), std::string::npos);
  EXPECT_EQ(r.messages[2].role, message_role::system);
  EXPECT_EQ(r.messages[2].text.rfind("<env>", 0), 0u);
  EXPECT_EQ(r.messages[3].role, message_role::assistant);
  EXPECT_EQ(r.messages[3].text, "");  // the thinking is dropped
  ASSERT_EQ(r.messages[3].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[3].tool_calls[0].arguments, R"({"file_path":"/tmp/work/notes.txt"})");
  EXPECT_EQ(r.messages[4].role, message_role::tool);
  EXPECT_EQ(r.messages[4].tool_name, "Read");
  EXPECT_EQ(r.messages[4].text, "1\tThe secret word is PAPAYA.\n2\t");

  const std::vector<std::string> names = tool_names(r);
  EXPECT_EQ(names.size(), 11u);
  EXPECT_EQ(std::count(names.begin(), names.end(), "DeferredToolPlaceholder"), 0);
  EXPECT_EQ(names[4], "Read");
  EXPECT_NE(r.tools[4].parameters.find(R"("$schema":"https://json-schema.org/draft/2020-12/)"),
            std::string::npos);
}

}  // namespace
}  // namespace zai
