#include "core/api/anthropic_messages.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

// A body with the two fields Anthropic requires besides `messages`, and `members` after them.
std::string body(std::string_view members) {
  return R"({"model":"claude-sonnet-4-5","max_tokens":1024,)" + std::string(members) + "}";
}

// A body whose only message is a user turn holding `content`.
std::string user_says(std::string_view content) {
  return body(R"("messages":[{"role":"user","content":)" + std::string(content) + "}]");
}

chat_request must_parse(const std::string& json) {
  auto r = parse_messages_request(json);
  EXPECT_TRUE(r.has_value()) << json << "\n" << (r.has_error() ? r.error().message : "");
  return r.has_value() ? *r : chat_request{};
}

api_error must_refuse(const std::string& json) {
  auto r = parse_messages_request(json);
  EXPECT_TRUE(r.has_error()) << json;
  return r.has_error() ? r.error() : api_error{};
}

// A user turn after an assistant turn that called `Read` as toolu_1.
std::string after_read(std::string_view user_content, std::string_view extra_members = "") {
  return body(std::string(extra_members) +
              R"("messages":[{"role":"user","content":"read it"},
                  {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1",
                   "name":"Read","input":{"file_path":"/a"}}]},
                  {"role":"user","content":)" +
              std::string(user_content) + "}]");
}

TEST(anthropic_request, a_minimal_body_gives_one_user_message_and_anthropic_defaults) {
  const chat_request r = must_parse(user_says(R"("Hello")"));
  EXPECT_EQ(r.model, "claude-sonnet-4-5");
  EXPECT_EQ(r.max_tokens, 1024);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, message_role::user);
  EXPECT_EQ(r.messages[0].text, "Hello");
  EXPECT_EQ(r.enable_thinking, false);  // Anthropic's models think only when asked
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.tool_choice, tool_choice_mode::automatic);
  EXPECT_TRUE(r.parallel_tool_calls);
  EXPECT_TRUE(r.tools.empty());
}

TEST(anthropic_request, system_is_a_string_or_text_blocks_without_the_billing_header) {
  const chat_request plain = must_parse(body(R"("system":"Be brief.",
      "messages":[{"role":"user","content":"Hi"}])"));
  ASSERT_EQ(plain.messages.size(), 2u);
  EXPECT_EQ(plain.messages[0].role, message_role::system);
  EXPECT_EQ(plain.messages[0].text, "Be brief.");

  const chat_request blocks = must_parse(body(R"("system":[
      {"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.328; cch=0;"},
      {"type":"text","text":"One.","cache_control":{"type":"ephemeral"}},
      {"type":"text","text":"Two."}],
      "messages":[{"role":"user","content":"Hi"}])"));
  EXPECT_EQ(blocks.messages[0].text, "One.\nTwo.");

  const api_error e = must_refuse(body(R"("system":[{"type":"image"}],"messages":[])"));
  EXPECT_EQ(e.param, "system[0]");
}

TEST(anthropic_request, text_blocks_join_and_replayed_thinking_is_dropped) {
  const chat_request r = must_parse(body(R"("messages":[
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
      {"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},
                                     {"type":"redacted_thinking","data":"xx"},
                                     {"type":"text","text":"c"}]},
      {"role":"assistant","content":[{"type":"thinking","thinking":"only","signature":"s"}]},
      {"role":"user","content":"d"}])"));
  ASSERT_EQ(r.messages.size(), 3u);  // the turn that only thought says nothing
  EXPECT_EQ(r.messages[0].text, "a\nb");
  EXPECT_EQ(r.messages[1].role, message_role::assistant);
  EXPECT_EQ(r.messages[1].text, "c");
  EXPECT_EQ(r.messages[2].text, "d");
}

TEST(anthropic_request, tool_use_and_tool_result_become_calls_and_tool_messages) {
  const chat_request r = must_parse(after_read(R"([
      {"type":"tool_result","tool_use_id":"toolu_1","content":"1\tPAPAYA\n",
       "cache_control":{"type":"ephemeral"}}])"));
  ASSERT_EQ(r.messages.size(), 3u);
  const chat_message& call = r.messages[1];
  ASSERT_EQ(call.tool_calls.size(), 1u);
  EXPECT_EQ(call.tool_calls[0].id, "toolu_1");
  EXPECT_EQ(call.tool_calls[0].name, "Read");
  EXPECT_EQ(call.tool_calls[0].arguments, R"({"file_path":"/a"})");
  const chat_message& result = r.messages[2];
  EXPECT_EQ(result.role, message_role::tool);
  EXPECT_EQ(result.tool_call_id, "toolu_1");
  EXPECT_EQ(result.tool_name, "Read");
  EXPECT_EQ(result.text, "1\tPAPAYA\n");
  EXPECT_FALSE(result.is_error);
}

TEST(anthropic_request, tool_results_and_text_keep_their_order) {
  const chat_request r = must_parse(after_read(R"j([
      {"type":"text","text":"before"},
      {"type":"tool_result","tool_use_id":"toolu_1","is_error":true,
       "content":[{"type":"text","text":"no such file"},{"type":"text","text":"(exit 1)"}]},
      {"type":"text","text":"after"}])j"));
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_EQ(r.messages[2].role, message_role::user);
  EXPECT_EQ(r.messages[2].text, "before");
  EXPECT_EQ(r.messages[3].role, message_role::tool);
  EXPECT_EQ(r.messages[3].text, "no such file\n(exit 1)");
  EXPECT_TRUE(r.messages[3].is_error);
  EXPECT_EQ(r.messages[4].role, message_role::user);
  EXPECT_EQ(r.messages[4].text, "after");
}

TEST(anthropic_request, a_picture_in_a_tool_result_becomes_a_note_not_a_400) {
  const chat_request r = must_parse(after_read(R"([{"type":"tool_result","tool_use_id":"toolu_1",
      "content":[{"type":"image",
                  "source":{"type":"base64","media_type":"image/png","data":"x"}}]}])"));
  EXPECT_EQ(r.messages[2].text, "[image omitted: this proxy passes on text only]");
}

TEST(anthropic_request, a_mid_conversation_system_message_is_kept_in_place) {
  const chat_request r = must_parse(body(R"("messages":[{"role":"user","content":"a"},
      {"role":"system","content":[{"type":"text","text":"<env>cwd</env>"}]},
      {"role":"user","content":"b"}])"));
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[1].role, message_role::system);
  EXPECT_EQ(r.messages[1].text, "<env>cwd</env>");
}

TEST(anthropic_request, images_and_documents_are_refused_naming_the_block) {
  for (std::string_view kind : {"image", "document"}) {
    const api_error e = must_refuse(user_says(R"([{"type":"text","text":"look"},{"type":")" +
                                              std::string(kind) + R"(","source":{}}])"));
    EXPECT_EQ(e.code, errc::invalid_request);
    EXPECT_EQ(e.param, "messages[0].content[1]");
    EXPECT_EQ(e.message, "messages.0.content.1: content blocks of type '" + std::string(kind) +
                             "' are not supported by this proxy; send text only");
  }
}

TEST(anthropic_request, blocks_in_the_wrong_turn_and_unknown_blocks_are_refused) {
  const std::pair<std::string, std::string_view> cases[] = {
      {user_says(R"([{"type":"tool_use","id":"t","name":"x","input":{}}])"),
       "messages.0.content.0: 'tool_use' blocks are only allowed in assistant messages"},
      {user_says(R"([{"type":"thinking","thinking":"x","signature":"s"}])"),
       "messages.0.content.0: 'thinking' blocks are only allowed in assistant messages"},
      {body(R"("messages":[{"role":"assistant","content":[
           {"type":"tool_result","tool_use_id":"t"}]}])"),
       "messages.0.content.0: 'tool_result' blocks are only allowed in user messages"},
      {user_says(R"([{"type":"video"}])"),
       "messages.0.content.0: Input tag 'video' found using 'type' does not match"},
      {after_read(R"([{"type":"tool_result","tool_use_id":"toolu_9"}])"),
       "messages.2.content.0.tool_use_id: unexpected `tool_use_id` found in `tool_result` "
       "blocks: toolu_9."},
      {body(R"("messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t",
           "name":"x"}]}])"),
       "messages.0.content.0.input: Field required"},
      {body(R"("messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t",
           "name":"x","input":"{}"}]}])"),
       "messages.0.content.0.input: Input should be a valid dictionary"},
  };
  for (const auto& [json, message] : cases) {
    const api_error e = must_refuse(json);
    EXPECT_EQ(e.code, errc::invalid_request);
    EXPECT_EQ(e.message.rfind(message, 0), 0u) << e.message;
  }
}

TEST(anthropic_request, the_required_fields_are_refused_as_anthropic_words_it) {
  const std::pair<std::string, std::string_view> cases[] = {
      {R"({"max_tokens":1,"messages":[{"role":"user","content":"x"}]})", "model: Field required"},
      {R"({"model":"","max_tokens":1,"messages":[]})",
       "model: String should have at least 1 character"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}]})",
       "max_tokens: Field required"},
      {R"({"model":"m","max_tokens":0,"messages":[]})",
       "max_tokens: Input should be greater than or equal to 1"},
      {R"({"model":"m","max_tokens":1.5,"messages":[]})",
       "max_tokens: Input should be a valid integer"},
      {R"({"model":"m","max_tokens":"9","messages":[]})",
       "max_tokens: Input should be a valid integer"},
      {R"({"model":"m","max_tokens":18446744073709551615,"messages":[]})",
       "max_tokens: Input should be a valid 64-bit integer"},
      {body(R"("messages":[])"), "messages: at least one message is required"},
      {body(R"("messages":{})"), "messages: Input should be a valid list"},
      {body(R"("x":1)"), "messages: Field required"},
      {body(R"("messages":["hi"])"), "messages.0: Input should be a valid dictionary"},
      {body(R"("messages":[{"role":"tool","content":"x"}])"),
       "messages.0.role: Input should be 'user', 'assistant' or 'system'"},
      {body(R"("messages":[{"role":"user"}])"), "messages.0.content: Field required"},
      {body(R"("messages":[{"role":"user","content":7}])"),
       "messages.0.content: Input should be a valid string or a list of blocks"},
      {body(R"("messages":[{"role":"user","content":""}])"),
       "messages: at least one user or assistant message must have content"},
      {body(R"("messages":[{"role":"system","content":"Be brief."}])"),
       "messages: at least one user or assistant message must have content"},
  };
  for (const auto& [json, message] : cases) {
    const api_error e = must_refuse(json);
    EXPECT_EQ(e.code, errc::invalid_request) << json;
    EXPECT_EQ(e.message, message) << json;
  }
}

TEST(anthropic_request, a_body_that_is_not_a_json_object_is_refused) {
  const auto bad = parse_messages_request("{\"model\":");
  ASSERT_TRUE(bad.has_error());
  EXPECT_EQ(bad.error().code, errc::invalid_json);
  const auto list = parse_messages_request("[]");
  ASSERT_TRUE(list.has_error());
  EXPECT_EQ(list.error().code, errc::invalid_request);
}

TEST(anthropic_request, sampling_fields_are_checked_and_carried) {
  const chat_request r = must_parse(body(R"("temperature":0.3,"top_p":1,"top_k":40,
      "stop_sequences":["END","\n\nHuman:"],"stream":true,
      "messages":[{"role":"user","content":"x"}])"));
  EXPECT_EQ(r.temperature, 0.3);
  EXPECT_EQ(r.top_p, 1.0);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"END", "\n\nHuman:"}));
  EXPECT_TRUE(r.stream);
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"("temperature":1.5)", "temperature: Input should be less than or equal to 1"},
      {R"("temperature":-0.1)", "temperature: Input should be greater than or equal to 0"},
      {R"("top_p":"high")", "top_p: Input should be a valid number"},
      {R"("stop_sequences":"END")", "stop_sequences: Input should be a valid list"},
      {R"("stop_sequences":["a",1])", "stop_sequences.1: Input should be a valid string"},
      {R"("stream":"yes")", "stream: Input should be a valid boolean"},
  };
  for (const auto& [member, message] : cases) {
    EXPECT_EQ(must_refuse(body(std::string(member) + R"(,"messages":[])")).message, message);
  }
}

TEST(anthropic_request, unknown_and_unused_fields_are_ignored_never_refused) {
  const chat_request r = must_parse(body(R"(
      "metadata":{"user_id":"{\"device_id\":\"d\"}"},
      "context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
      "output_config":{"effort":"high","format":{"type":"json_schema"}},
      "service_tier":"auto","container":null,"mcp_servers":[],"temperature":null,
      "a_field_from_2027":{"nested":[1,2,3]},
      "messages":[{"role":"user","content":[{"type":"text","text":"x",
          "cache_control":{"type":"ephemeral","ttl":"1h"},"citations":[]}],"extra":true}])"));
  EXPECT_EQ(r.messages.at(0).text, "x");
  EXPECT_FALSE(r.temperature.has_value());
}

TEST(anthropic_request, thinking_is_on_when_enabled_or_adaptive) {
  const auto thinking = [](std::string_view value) {
    return must_parse(body(R"("thinking":)" + std::string(value) +
                           R"(,"messages":[{"role":"user","content":"x"}])"))
        .enable_thinking;
  };
  EXPECT_EQ(thinking(R"({"type":"enabled","budget_tokens":2048})"), true);
  EXPECT_EQ(thinking(R"({"type":"adaptive","display":"omitted"})"), true);
  EXPECT_EQ(thinking(R"({"type":"disabled"})"), false);
  EXPECT_EQ(thinking("null"), false);
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"type":"enabled"})", "thinking.budget_tokens: Field required"},
      {R"({"type":"enabled","budget_tokens":512})",
       "thinking.budget_tokens: Input should be greater than or equal to 1024"},
      {R"({"type":"on"})", "thinking: Input tag 'on' found using 'type' does not match any of "
                           "the expected tags: 'enabled', 'adaptive', 'disabled'"},
      {R"(true)", "thinking: Input should be a valid dictionary"},
  };
  for (const auto& [value, message] : cases) {
    EXPECT_EQ(must_refuse(body(R"("thinking":)" + std::string(value) + R"(,"messages":[])"))
                  .message,
              message);
  }
}

}  // namespace
}  // namespace zai
