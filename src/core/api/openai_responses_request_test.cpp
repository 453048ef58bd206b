#include "core/api/openai_responses_request.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace zai {
namespace {

response_store no_store({.max_count = 0, .max_age_ms = 0, .max_bytes = 0});

chat_request must_parse(std::string_view body, response_store* store = nullptr, double now = 0) {
  const auto r = parse_responses_request(body, store, now);
  EXPECT_TRUE(r.has_value()) << body << "\n -> " << (r.has_error() ? r.error().message : "");
  return r.has_value() ? *r : chat_request{};
}

api_error must_fail(std::string_view body, response_store* store = nullptr) {
  const auto r = parse_responses_request(body, store, 0);
  EXPECT_TRUE(r.has_error()) << body;
  return r.has_error() ? r.error() : api_error{};
}

// A body with the given input (JSON text) and extra top-level members.
std::string body_with(std::string_view input, std::string_view extra = "") {
  std::string out = R"({"model":"glm-4.7","input":)";
  out += input;
  if (!extra.empty()) {
    out += ',';
    out += extra;
  }
  return out + "}";
}

std::string calls_input(std::string_view output_item) {
  return R"([{"role":"user","content":"Read a.txt"},
             {"type":"function_call","call_id":"call_1","name":"read","arguments":"{\"p\":\"a\"}"},
             )" + std::string(output_item) + "]";
}

boost::json::object echo_of(const chat_request& r) {
  return boost::json::parse("{" + r.responses.echo + "}").as_object();
}

TEST(responses_request, a_string_input_is_one_user_message) {
  const chat_request r = must_parse(body_with(R"("Hello!")"));
  EXPECT_EQ(r.model, "glm-4.7");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, message_role::user);
  EXPECT_EQ(r.messages[0].text, "Hello!");
  EXPECT_FALSE(r.stream || r.temperature || r.top_p || r.max_tokens || r.enable_thinking);
  EXPECT_TRUE(r.tools.empty());
  EXPECT_TRUE(r.tools.empty());
  EXPECT_EQ(r.tool_choice, tool_choice_mode::automatic);
  EXPECT_TRUE(r.parallel_tool_calls);
  EXPECT_FALSE(r.responses.instructions_first);
}

TEST(responses_request, instructions_become_the_first_system_message) {
  const chat_request r = must_parse(body_with(R"("Hi")", R"("instructions":"Be brief.")"));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, message_role::system);
  EXPECT_EQ(r.messages[0].text, "Be brief.");
  EXPECT_TRUE(r.responses.instructions_first);
}

TEST(responses_request, reads_messages_of_every_role_with_text_parts) {
  const chat_request r = must_parse(body_with(R"([
      {"type":"message","role":"system","content":"Sys"},
      {"type":"message","role":"developer","content":[{"type":"input_text","text":"Dev"}]},
      {"role":"user","content":[{"type":"input_text","text":"one"},{"type":"input_text","text":"two"}]},
      {"type":"message","id":"msg_1","status":"completed","role":"assistant",
       "content":[{"type":"output_text","text":"Sure","annotations":[]},{"type":"refusal","refusal":"No"}]}])"));
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0].role, message_role::system);
  EXPECT_EQ(r.messages[1].role, message_role::developer);
  EXPECT_EQ(r.messages[1].text, "Dev");
  EXPECT_EQ(r.messages[2].role, message_role::user);
  EXPECT_EQ(r.messages[2].text, "one\ntwo");
  EXPECT_EQ(r.messages[3].role, message_role::assistant);
  EXPECT_EQ(r.messages[3].text, "Sure\nNo");
}

TEST(responses_request, consecutive_calls_join_one_assistant_turn_and_outputs_are_tool_messages) {
  const chat_request r = must_parse(body_with(R"([
      {"role":"user","content":"Go"},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Reading."}]},
      {"type":"function_call","id":"fc_1","call_id":"call_1","name":"read","arguments":"{}","status":"completed"},
      {"type":"function_call","call_id":"call_2","name":"list","arguments":"{\"d\":1}"},
      {"type":"function_call_output","call_id":"call_1","output":"A"},
      {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"B"}]}])"));
  ASSERT_EQ(r.messages.size(), 4u);
  const chat_message& turn = r.messages[1];
  EXPECT_EQ(turn.role, message_role::assistant);
  EXPECT_EQ(turn.text, "Reading.");
  ASSERT_EQ(turn.tool_calls.size(), 2u);
  EXPECT_EQ(turn.tool_calls[0].id, "call_1");
  EXPECT_EQ(turn.tool_calls[0].name, "read");
  EXPECT_EQ(turn.tool_calls[1].arguments, "{\"d\":1}");
  EXPECT_EQ(turn.tool_calls[1].kind, tool_kind::function);
  EXPECT_EQ(r.messages[2].role, message_role::tool);
  EXPECT_EQ(r.messages[2].tool_call_id, "call_1");
  EXPECT_EQ(r.messages[2].tool_name, "read");
  EXPECT_EQ(r.messages[2].text, "A");
  EXPECT_EQ(r.messages[3].text, "B");
}

TEST(responses_request, custom_tool_calls_round_trip_with_their_raw_input) {
  const chat_request r = must_parse(body_with(R"([
      {"role":"user","content":"Patch it"},
      {"type":"custom_tool_call","call_id":"call_p","name":"apply_patch","input":"*** Begin Patch\n"},
      {"type":"custom_tool_call_output","call_id":"call_p","output":"Done!"}])"));
  ASSERT_EQ(r.messages.size(), 3u);
  ASSERT_EQ(r.messages[1].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[1].tool_calls[0].kind, tool_kind::custom);
  EXPECT_EQ(r.messages[1].tool_calls[0].arguments, "*** Begin Patch\n");
  EXPECT_EQ(r.messages[2].tool_name, "apply_patch");
  EXPECT_EQ(r.messages[2].text, "Done!");
}

TEST(responses_request, reasoning_and_server_tool_history_are_dropped) {
  const chat_request r = must_parse(body_with(R"([
      {"role":"user","content":"Hi"},
      {"type":"reasoning","id":"rs_1","summary":[],"content":null,"encrypted_content":null},
      {"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search"}},
      {"type":"compaction","encrypted_content":"opaque"},
      {"role":"assistant","content":"Hello"}])"));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].text, "Hello");
}

TEST(responses_request, images_and_files_are_refused_naming_the_part) {
  const api_error image = must_fail(body_with(R"([{"role":"user","content":"a"},{"role":"user",
      "content":[{"type":"input_text","text":"x"},{"type":"input_image","image_url":"data:"}]}])"));
  EXPECT_EQ(image.code, errc::invalid_request);
  EXPECT_EQ(image.param, "input[1].content[1]");
  EXPECT_NE(image.message.find("input_image"), std::string::npos);
  EXPECT_EQ(must_fail(body_with(R"([{"role":"user","content":[{"type":"input_file","file_id":"f"}]}])"))
                .param,
            "input[0].content[0]");
  EXPECT_EQ(must_fail(body_with(calls_input(R"({"type":"function_call_output","call_id":"call_1",
                "output":[{"type":"input_image","image_url":"x"}]})")))
                .param,
            "input[2].output[0]");
}

TEST(responses_request, an_output_for_a_call_nowhere_in_the_conversation_is_a_400) {
  const api_error e = must_fail(
      calls_input(R"({"type":"function_call_output","call_id":"call_9","output":"x"})")
          .insert(0, R"({"model":"m","input":)")
          .append("}"));
  EXPECT_EQ(e.code, errc::invalid_request);
  EXPECT_EQ(e.param, "input[2].call_id");
  EXPECT_NE(e.message.find("call_9"), std::string::npos);
}

TEST(responses_request, malformed_items_name_the_field) {
  const std::pair<std::string, std::string> cases[] = {
      {body_with(R"([{"type":"mystery"}])"), "input[0].type"},
      {body_with(R"([{"content":"no role or type"}])"), "input[0].type"},
      {body_with(R"([{"type":"message","role":"robot","content":"x"}])"), "input[0].role"},
      {body_with(R"([{"type":"message","role":"user"}])"), "input[0].content"},
      {body_with(R"([{"role":"user","content":7}])"), "input[0].content"},
      {body_with(R"([{"role":"user","content":[{"type":"input_text"}]}])"), "input[0].content[0].text"},
      {body_with(R"([{"role":"user","content":[{"type":"text","text":"x"}]}])"),
       "input[0].content[0].type"},
      {body_with(R"(["just a string"])"), "input[0]"},
      {body_with(R"([{"type":"function_call","name":"f","arguments":"{}"}])"), "input[0].call_id"},
      {body_with(R"([{"type":"function_call","call_id":"c","arguments":"{}"}])"), "input[0].name"},
      {body_with(R"([{"type":"function_call","call_id":"c","name":"f"}])"), "input[0].arguments"},
      {body_with(R"([{"type":"custom_tool_call","call_id":"c","name":"f"}])"), "input[0].input"},
      {body_with(calls_input(R"({"type":"function_call_output","call_id":"call_1"})")),
       "input[2].output"},
      {body_with(R"([{"type":"item_reference","id":"msg_1"}])"), "input[0]"},
      {body_with("42"), "input"},
      {body_with(R"("")"), "input"},
      {R"({"input":"x"})", "model"},
      {R"({"model":"m"})", "input"},
      {R"({"model":"","input":"x"})", "model"},
  };
  for (const auto& [body, param] : cases) {
    SCOPED_TRACE(body);
    const api_error e = must_fail(body);
    EXPECT_EQ(e.code, errc::invalid_request);
    EXPECT_EQ(e.param, param);
  }
  EXPECT_EQ(must_fail("{not json").code, errc::invalid_json);
  EXPECT_EQ(must_fail("[1]").code, errc::invalid_request);
}

TEST(responses_request, reads_function_and_custom_tools_and_ignores_every_other_type) {
  const chat_request r = must_parse(body_with(R"("Hi")", R"("tools":[
      {"type":"function","name":"read","description":"Reads","parameters":{"type":"object"},"strict":true},
      {"type":"function","name":"now"},
      {"type":"custom","name":"apply_patch","description":"Patch",
       "format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch"}},
      {"type":"custom","name":"free"},
      {"type":"namespace","name":"multi_agent_v1","tools":[{"type":"function","name":"spawn_agent"}]},
      {"type":"web_search","external_web_access":true},
      {"type":"mcp","server_label":"x"},{"type":"tool_search"},{"type":"file_search"},
      {"type":"something_new"}])"));
  ASSERT_EQ(r.tools.size(), 4u);
  EXPECT_FALSE(r.tools.empty());
  EXPECT_EQ(r.tools[0].name, "read");
  EXPECT_EQ(r.tools[0].description, "Reads");
  EXPECT_EQ(r.tools[0].parameters, R"({"type":"object"})");
  EXPECT_EQ(r.tools[1].parameters, "{}");
  EXPECT_EQ(r.tools[2].kind, tool_kind::custom);
  EXPECT_EQ(r.tools[2].format, "start: begin_patch");
  EXPECT_EQ(r.tools[3].kind, tool_kind::custom);
  EXPECT_EQ(r.tools[3].format, "");
}

TEST(responses_request, malformed_tools_name_the_field) {
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("tools":{})")).param, "tools");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("tools":[{"name":"f"}])")).param, "tools[0].type");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("tools":[{"type":"web_search"},{"type":"function"}])"))
                .param,
            "tools[1].name");
  EXPECT_EQ(must_fail(body_with(R"("x")",
                                R"("tools":[{"type":"function","name":"f","parameters":"{}"}])"))
                .param,
            "tools[0].parameters");
}

TEST(responses_request, tool_choice_takes_every_form_the_api_has) {
  const std::string tools =
      R"("tools":[{"type":"function","name":"read"},{"type":"custom","name":"apply_patch"}],)";
  EXPECT_EQ(must_parse(body_with(R"("x")", tools + R"("tool_choice":"none")")).tool_choice,
            tool_choice_mode::none);
  EXPECT_EQ(must_parse(body_with(R"("x")", tools + R"("tool_choice":"required")")).tool_choice,
            tool_choice_mode::required);
  const chat_request named =
      must_parse(body_with(R"("x")", tools + R"("tool_choice":{"type":"custom","name":"apply_patch"})"));
  EXPECT_EQ(named.tool_choice, tool_choice_mode::named);
  EXPECT_EQ(named.tool_choice_name, "apply_patch");
  const chat_request allowed = must_parse(body_with(
      R"("x")", tools + R"("tool_choice":{"type":"allowed_tools","mode":"required",
                                          "tools":[{"type":"function","name":"read"}]})"));
  EXPECT_EQ(allowed.tool_choice, tool_choice_mode::required);
  ASSERT_EQ(allowed.tools.size(), 1u);
  EXPECT_EQ(allowed.tools[0].name, "read");

  EXPECT_EQ(must_fail(body_with(R"("x")", tools + R"("tool_choice":"sometimes")")).param,
            "tool_choice");
  EXPECT_EQ(must_fail(body_with(R"("x")", tools + R"("tool_choice":{"type":"function","name":"nope"})"))
                .param,
            "tool_choice.name");
  // A custom tool is not a function of the same name.
  EXPECT_EQ(must_fail(body_with(R"("x")",
                                tools + R"("tool_choice":{"type":"function","name":"apply_patch"})"))
                .param,
            "tool_choice.name");
  EXPECT_EQ(must_fail(body_with(R"("x")", tools + R"("tool_choice":{"type":"web_search_preview"})"))
                .param,
            "tool_choice.type");
}

TEST(responses_request, reasoning_effort_switches_thinking) {
  const auto thinking = [](std::string_view reasoning) {
    return must_parse(body_with(R"("x")", R"("reasoning":)" + std::string(reasoning)))
        .enable_thinking;
  };
  EXPECT_EQ(thinking(R"({"effort":"high","summary":"auto"})"), std::optional<bool>(true));
  EXPECT_EQ(thinking(R"({"effort":"low"})"), std::optional<bool>(true));
  EXPECT_EQ(thinking(R"({"effort":"minimal"})"), std::optional<bool>(false));
  EXPECT_EQ(thinking(R"({"effort":"none"})"), std::optional<bool>(false));
  EXPECT_EQ(thinking(R"({"summary":"auto"})"), std::nullopt);
  EXPECT_EQ(thinking(R"({"effort":null})"), std::nullopt);
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("reasoning":{"effort":"huge"})")).param,
            "reasoning.effort");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("reasoning":"high")")).param, "reasoning");
}

TEST(responses_request, a_json_schema_format_becomes_the_answer_schema) {
  const chat_request r = must_parse(body_with(
      R"("x")", R"("text":{"verbosity":"low","format":{"type":"json_schema","name":"codex_output_schema",
                    "strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}}}}})"));
  EXPECT_EQ(r.answer_schema, R"({"type":"object","properties":{"a":{"type":"string"}}})");
  EXPECT_EQ(must_parse(body_with(R"("x")", R"("text":{"format":{"type":"json_object"}})"))
                .answer_schema,
            R"({"type":"object"})");
  EXPECT_EQ(must_parse(body_with(R"("x")", R"("text":{"format":{"type":"text"}})")).answer_schema,
            "");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("text":{"format":{"type":"json_schema"}})")).param,
            "text.format.schema");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("text":{"format":{"type":"xml"}})")).param,
            "text.format.type");
}

TEST(responses_request, reads_the_sampling_and_stream_options) {
  const chat_request r = must_parse(body_with(
      R"("x")", R"("stream":true,"max_output_tokens":256,"temperature":0.3,"top_p":0.9,
                   "parallel_tool_calls":false,"user":"u-1")"));
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.max_tokens, 256);
  EXPECT_EQ(r.temperature, 0.3);
  EXPECT_EQ(r.top_p, 0.9);
  EXPECT_FALSE(r.parallel_tool_calls);
  EXPECT_EQ(r.user, "u-1");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("max_output_tokens":0)")).param, "max_output_tokens");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("temperature":3)")).param, "temperature");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("stream":"yes")")).param, "stream");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("metadata":[])")).param, "metadata");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("include":"all")")).param, "include");
}

TEST(responses_request, unknown_and_unused_fields_are_accepted) {
  const chat_request r = must_parse(body_with(
      R"("x")", R"("include":["reasoning.encrypted_content"],"prompt_cache_key":"k",
                   "client_metadata":{"a":"b"},"metadata":{"k":"v"},"truncation":"auto",
                   "service_tier":"auto","background":false,"some_future_field":{"x":[1]})"));
  EXPECT_EQ(r.messages.size(), 1u);
}

TEST(responses_request, server_side_conversation_state_is_refused) {
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("conversation":"conv_1")")).param, "conversation");
  EXPECT_EQ(must_fail(body_with(R"("x")", R"("prompt":{"id":"pmpt_1"})")).param, "prompt");
}

TEST(responses_request, store_defaults_to_true_where_a_store_can_keep_it) {
  response_store store;
  EXPECT_TRUE(must_parse(body_with(R"("x")"), &store).responses.store);
  EXPECT_FALSE(must_parse(body_with(R"("x")", R"("store":false)"), &store).responses.store);
  EXPECT_FALSE(must_parse(body_with(R"("x")")).responses.store);  // no store at all
  EXPECT_FALSE(must_parse(body_with(R"("x")"), &no_store).responses.store);
  // The response then says it was not stored.
  EXPECT_EQ(echo_of(must_parse(body_with(R"("x")"), &no_store)).at("store"), false);
  EXPECT_EQ(echo_of(must_parse(body_with(R"("x")"), &store)).at("store"), true);
}

TEST(responses_request, the_echo_repeats_the_request_fields_at_their_defaults) {
  const boost::json::object plain = echo_of(must_parse(body_with(R"("x")")));
  EXPECT_TRUE(plain.at("instructions").is_null());
  EXPECT_EQ(plain.at("metadata"), boost::json::object{});
  EXPECT_EQ(plain.at("tool_choice"), "auto");
  EXPECT_EQ(plain.at("tools"), boost::json::array{});
  EXPECT_EQ(plain.at("temperature").to_number<double>(), 1.0);
  EXPECT_EQ(plain.at("top_p").to_number<double>(), 1.0);
  EXPECT_EQ(plain.at("parallel_tool_calls"), true);
  EXPECT_TRUE(plain.at("previous_response_id").is_null());
  EXPECT_EQ(plain.at("text").at("format").at("type"), "text");
  EXPECT_TRUE(plain.at("reasoning").at("effort").is_null());

  const boost::json::object given = echo_of(must_parse(body_with(
      R"("x")", R"("instructions":"Be brief.","tools":[{"type":"web_search"}],
                   "tool_choice":"none","reasoning":{"effort":"low","summary":"auto"},
                   "metadata":{"k":"v"},"max_output_tokens":99,"temperature":0.5)")));
  EXPECT_EQ(given.at("instructions"), "Be brief.");
  EXPECT_EQ(given.at("tools").as_array().size(), 1u);
  EXPECT_EQ(given.at("tool_choice"), "none");
  EXPECT_EQ(given.at("reasoning").at("effort"), "low");
  EXPECT_EQ(given.at("reasoning").at("summary"), "auto");
  EXPECT_EQ(given.at("metadata").at("k"), "v");
  EXPECT_EQ(given.at("max_output_tokens"), 99);
  EXPECT_EQ(given.at("temperature"), 0.5);
}

std::string read_fixture(std::string_view name) {
  std::ifstream in(std::string(ZAI_SOURCE_DIR) + "/test/fixtures/responses/" + std::string(name));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(responses_request, parses_codex_0_169_0s_request_after_a_tool_call) {
  response_store store;
  const chat_request r = must_parse(read_fixture("codex-0.169.0-request.json"), &store);
  EXPECT_EQ(r.model, "glm-4.7");
  EXPECT_TRUE(r.stream);
  EXPECT_FALSE(r.responses.store);  // Codex sends store:false
  EXPECT_FALSE(r.responses.instructions_first);
  EXPECT_EQ(r.enable_thinking, std::nullopt);  // reasoning:{summary:"auto"} only
  ASSERT_EQ(r.messages.size(), 6u);
  EXPECT_EQ(r.messages[0].role, message_role::developer);
  EXPECT_EQ(r.messages[1].role, message_role::developer);
  EXPECT_NE(r.messages[2].text.find("<environment_context>"), std::string::npos);
  EXPECT_EQ(r.messages[3].role, message_role::user);
  ASSERT_EQ(r.messages[4].tool_calls.size(), 1u);  // the reasoning item before it is dropped
  EXPECT_EQ(r.messages[4].tool_calls[0].name, "exec_command");
  EXPECT_EQ(r.messages[4].tool_calls[0].id, "call_0c1f2a");
  EXPECT_EQ(r.messages[5].role, message_role::tool);
  EXPECT_NE(r.messages[5].text.find("SECRET-42"), std::string::npos);
  // Seven functions; the multi_agent_v1 namespace and web_search are not offered.
  ASSERT_EQ(r.tools.size(), 7u);
  EXPECT_EQ(r.tools[0].name, "exec_command");
  EXPECT_NE(r.tools[0].parameters.find("\"cmd\""), std::string::npos);
  EXPECT_EQ(r.tool_choice, tool_choice_mode::automatic);
  EXPECT_TRUE(r.parallel_tool_calls);
}

}  // namespace
}  // namespace zai
