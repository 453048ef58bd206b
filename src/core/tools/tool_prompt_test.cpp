#include "core/tools/tool_prompt.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/tools/tool_markup.hpp"
#include "core/zai/request.hpp"
#include "tool_test_support.hpp"

namespace zai {
namespace {

using testing::catalogue_tools_json;
using testing::read_text_file;
using testing::source_path;

constexpr std::string_view nonce = "n7Kq2xZ4";

chat_request request_from(std::string_view messages, std::string_view tools,
                          std::string_view extra = "") {
  std::string body = R"({"model":"glm-4.7","messages":)" + std::string(messages) + R"(,"tools":)" +
                     catalogue_tools_json(tools);
  if (!extra.empty()) body.append(",").append(extra);
  body += "}";
  const result<chat_request> r = parse_chat_request(body);
  EXPECT_TRUE(r.has_value()) << (r.has_error() ? r.error().message : "");
  return r.has_value() ? *r : chat_request{};
}

// Compares with test/unit/tool_prompts/<name>.txt; ZAI_UPDATE_GOLDEN=1 rewrites the file.
void expect_golden(std::string_view name, const std::string& prompt) {
  const std::string path = source_path("test/unit/tool_prompts/" + std::string(name) + ".txt");
  if (std::getenv("ZAI_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << prompt;
    return;
  }
  EXPECT_EQ(prompt, read_text_file(path))
      << "golden " << path << " differs; rerun with ZAI_UPDATE_GOLDEN=1 to accept";
}

std::string prompt_of(const chat_request& r, tool_prompt_options options = {}) {
  options.nonce = nonce;
  return build_tool_prompt(r, options);
}

constexpr std::string_view coding_session = R"json([
  {"role":"system","content":"You are a coding agent working in the user's repository."},
  {"role":"user","content":"Why does the build fail?"},
  {"role":"assistant","content":"Let me look at the build script and the error.","tool_calls":[
    {"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"CMakeLists.txt\"}"}},
    {"id":"call_2","type":"function","function":{"name":"bash","arguments":"{\"command\":\"make 2>&1 | tail -5\",\"timeout\":60}"}}]},
  {"role":"tool","tool_call_id":"call_1","content":"cmake_minimum_required(VERSION 3.25)\nproject(demo)"},
  {"role":"tool","tool_call_id":"call_2","content":"error: 'optional' is not a member of 'std'"},
  {"role":"assistant","content":"The compiler lacks <optional>: a header include is missing."},
  {"role":"user","content":"Fix it."}])json";

TEST(tool_prompt, golden_single_turn) {
  expect_golden("single_turn",
                prompt_of(request_from(R"([{"role":"user","content":"What is in src/?"}])",
                                       "list_dir read_file")));
}

TEST(tool_prompt, golden_coding_session_with_history) {
  expect_golden("coding_session",
                prompt_of(request_from(coding_session, "read_file edit_file bash")));
}

TEST(tool_prompt, golden_required_without_parallel_calls) {
  expect_golden("required_one_call",
                prompt_of(request_from(R"([{"role":"user","content":"Weather in Oslo and Rome?"}])",
                                       "get_weather",
                                       R"("tool_choice":"required","parallel_tool_calls":false)")));
}

TEST(tool_prompt, golden_named_custom_tool) {
  expect_golden(
      "named_custom_tool",
      prompt_of(request_from(
          R"([{"role":"user","content":"Add a README saying hello."}])", "read_file apply_patch",
          R"("tool_choice":{"type":"custom","custom":{"name":"apply_patch"}})")));
}

TEST(tool_prompt, golden_retry_after_a_missed_call) {
  tool_prompt_options retry;
  retry.missed_call_answer = "I will check the weather in Oslo for you now.";
  expect_golden("retry_missed_call",
                prompt_of(request_from(R"([{"role":"user","content":"Weather in Oslo?"}])",
                                       "get_weather", R"("tool_choice":"required")"),
                          retry));
}

TEST(tool_prompt, the_format_is_stated_first_and_last_with_the_nonce) {
  const std::string p = prompt_of(request_from(coding_session, "read_file edit_file bash"));
  const std::string format = "<tool_call nonce=\"n7Kq2xZ4\">TOOL_NAME\n";
  EXPECT_LT(p.find("<tool_calling>"), p.find(format));
  EXPECT_LT(p.find(format), p.find("<tools>"));
  EXPECT_TRUE(p.ends_with(format + "<arg_key>ARGUMENT_NAME</arg_key>\n<arg_value>ARGUMENT_VALUE"
                                   "</arg_value>\n</tool_call>\n"));
}

TEST(tool_prompt, earlier_calls_are_rerendered_and_results_bound_to_them) {
  const std::string p = prompt_of(request_from(coding_session, "read_file edit_file bash"));
  EXPECT_NE(p.find("<tool_call nonce=\"n7Kq2xZ4\">bash\n<arg_key>command</arg_key>\n"
                   "<arg_value>make 2>&1 | tail -5</arg_value>\n<arg_key>timeout</arg_key>\n"
                   "<arg_value>60</arg_value>\n</tool_call>"),
            std::string::npos);
  EXPECT_NE(p.find("<tool_result call_id=\"call_2\" name=\"bash\">\nerror: 'optional'"),
            std::string::npos);
  EXPECT_NE(p.find("<already_called>"), std::string::npos);
  EXPECT_NE(p.find("- read_file {\"path\":\"CMakeLists.txt\"}\n"), std::string::npos);
}

TEST(tool_prompt, exchanges_beyond_the_budget_are_shortened) {
  std::string messages = R"([{"role":"user","content":"Read the logs."})";
  for (int i = 0; i < 4; ++i) {
    const std::string id = "call_" + std::to_string(i);
    messages += R"(,{"role":"assistant","content":null,"tool_calls":[{"id":")" + id +
                R"(","function":{"name":"read_file","arguments":"{\"path\":\"log)" +
                std::to_string(i) + R"(\"}"}}]},{"role":"tool","tool_call_id":")" + id +
                R"(","content":")" + std::string(1000, char('a' + i)) + R"("})";
  }
  messages += "]";
  tool_prompt_options small;
  small.history_budget_bytes = 2500;
  const std::string p = prompt_of(request_from(messages, "read_file"), small);
  EXPECT_NE(p.find("[earlier call, shortened: read_file {\"path\":\"log0\"}]"), std::string::npos);
  EXPECT_NE(p.find("[earlier call, shortened: read_file {\"path\":\"log1\"}]"), std::string::npos);
  EXPECT_NE(p.find("<tool_result call_id=\"call_1\" name=\"read_file\" shortened=\"true\">"),
            std::string::npos);
  EXPECT_NE(p.find("[700 more bytes not shown]"), std::string::npos);
  EXPECT_NE(p.find(std::string(1000, 'c')), std::string::npos);  // within the budget
  EXPECT_NE(p.find(std::string(1000, 'd')), std::string::npos);
  EXPECT_EQ(p.find(std::string(1000, 'a')), std::string::npos);
}

TEST(tool_prompt, the_newest_exchange_is_always_whole) {
  const std::string big(10000, 'x');
  tool_prompt_options tiny;
  tiny.history_budget_bytes = 10;
  const std::string p = prompt_of(
      request_from(R"([{"role":"user","content":"Go."},{"role":"assistant","tool_calls":[{"id":"c",
                      "function":{"name":"list_dir","arguments":"{}"}}]},
                      {"role":"tool","tool_call_id":"c","content":")" +
                       big + R"("}])",
                   "list_dir"),
      tiny);
  EXPECT_NE(p.find(big), std::string::npos);
}

TEST(tool_prompt, tool_choice_none_keeps_the_plain_conversation) {
  const chat_request none =
      request_from(R"([{"role":"user","content":"Hi"}])", "bash", R"("tool_choice":"none")");
  EXPECT_FALSE(tools_in_prompt(none));
  EXPECT_EQ(upstream_prompt(none, {}), "Hi");
  chat_request plain = none;
  plain.tools.clear();
  plain.tool_choice = tool_choice_mode::automatic;
  EXPECT_EQ(upstream_prompt(plain, {}), "Hi");
}

TEST(tool_prompt, an_answer_schema_becomes_an_instruction) {
  chat_request r = request_from(R"([{"role":"user","content":"List three colours."}])", "bash",
                                R"("tool_choice":"none")");
  r.answer_schema = R"({"type":"array","items":{"type":"string"}})";
  const std::string p = upstream_prompt(r, {});
  EXPECT_TRUE(p.starts_with("List three colours.\n\nWhen you answer without calling a tool"));
  EXPECT_NE(p.find("<answer_schema>{\"type\":\"array\""), std::string::npos);
  r.tool_choice = tool_choice_mode::automatic;
  EXPECT_NE(prompt_of(r).find("<answer_schema>"), std::string::npos);
}

TEST(tool_prompt, required_and_named_choices_require_a_call) {
  const std::string ask = R"([{"role":"user","content":"Go."}])";
  EXPECT_FALSE(call_required(request_from(ask, "bash")));
  EXPECT_TRUE(call_required(request_from(ask, "bash", R"("tool_choice":"required")")));
  EXPECT_TRUE(call_required(
      request_from(ask, "bash", R"("tool_choice":{"type":"function","function":{"name":"bash"}})")));
  EXPECT_FALSE(call_required(request_from(ask, "bash", R"("tool_choice":"none")")));
}

TEST(tool_prompt, nonces_are_eight_letters_and_digits) {
  const std::string a = make_tool_nonce(0x0123456789abcdefULL);
  EXPECT_EQ(a.size(), 8u);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            std::string::npos);
  EXPECT_NE(a, make_tool_nonce(0x0123456789abcdeeULL));
  // The parser reads it back from the contract's tag.
  const tools::tag_match m =
      tools::match_tag("<tool_call nonce=\"" + a + "\">", {tools::tag::call_open}, true);
  EXPECT_EQ(m.nonce, a);
}

TEST(tool_prompt, without_a_nonce_nothing_is_bound) {
  const std::string p =
      build_tool_prompt(request_from(R"([{"role":"user","content":"Go."}])", "bash"), {});
  EXPECT_EQ(p.find("nonce"), std::string::npos);
  EXPECT_NE(p.find("<tool_call>bash\n"), std::string::npos);
}

}  // namespace
}  // namespace zai
