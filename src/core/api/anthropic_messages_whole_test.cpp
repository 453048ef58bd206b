// The Messages surface's whole answer (the `message` object) and its error envelope.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/api/anthropic_messages.hpp"

namespace zai {
namespace {

namespace json = boost::json;

std::string whole(const answer& a) {
  static const config cfg;
  return anthropic_messages_surface().whole({"msg_1", 0, "claude-opus-4-5", 40}, {}, a, {cfg});
}

TEST(anthropic_whole, the_message_holds_thinking_text_and_tool_use_blocks_in_order) {
  answer a;
  a.reasoning = "Think.";
  a.content = "Reading.";
  a.tool_calls = {{"toolu_a", "Read", R"({"file_path": "/a"})"}, {"toolu_b", "Bash", ""}};
  a.finish = finish_reason::tool_calls;
  a.usage.prompt_tokens = 55;
  a.usage.completion_tokens = 9;
  const json::value message = json::parse(whole(a));
  const json::value signature = message.at("content").at(0).at("signature");
  EXPECT_FALSE(signature.as_string().empty());
  EXPECT_EQ(message, json::parse(R"({"id":"msg_1","type":"message","role":"assistant",
      "model":"claude-opus-4-5","content":[
        {"type":"thinking","thinking":"Think.","signature":)" + json::serialize(signature) + R"(},
        {"type":"text","text":"Reading."},
        {"type":"tool_use","id":"toolu_a","name":"Read","input":{"file_path":"/a"}},
        {"type":"tool_use","id":"toolu_b","name":"Bash","input":{}}],
      "stop_reason":"tool_use","stop_sequence":null,
      "usage":{"input_tokens":55,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
               "output_tokens":9}})"));
}

TEST(anthropic_whole, a_plain_answer_has_one_text_block_and_the_estimated_input) {
  answer a;
  a.content = "Hello \"you\"\n";
  a.finish = finish_reason::length;
  const json::value message = json::parse(whole(a));
  EXPECT_EQ(message.at("content"), json::parse(R"([{"type":"text","text":"Hello \"you\"\n"}])"));
  EXPECT_EQ(message.at("stop_reason"), "max_tokens");
  EXPECT_EQ(message.at("usage").at("input_tokens"), 40);  // the flow's estimate
}

TEST(anthropic_whole, an_empty_answer_has_no_blocks_and_bad_arguments_become_an_empty_input) {
  EXPECT_EQ(json::parse(whole({})).at("content"), json::array());
  answer a;
  a.tool_calls = {{"toolu_x", "Read", "not json"}, {"toolu_y", "Read", "[1]"}};
  const json::value message = json::parse(whole(a));
  EXPECT_EQ(message.at("content").at(0).at("input"), json::object());
  EXPECT_EQ(message.at("content").at(1).at("input"), json::object());
  EXPECT_EQ(message.at("stop_reason"), "tool_use");  // called tools, whatever the finish said
}

TEST(anthropic_error, every_table_row_renders_in_anthropics_envelope) {
  for (const error_info& row : error_table()) {
    SCOPED_TRACE(row.default_message);
    const json::value body =
        json::parse(anthropic_messages_surface().error_body(make_error(row.code)));
    EXPECT_EQ(body, (json::object{{"type", "error"},
                                  {"error", {{"type", row.anthropic_type},
                                             {"message", row.default_message}}}}));
  }
}

TEST(anthropic_error, a_400_keeps_its_message_naming_the_param) {
  const api_error e = make_error(errc::invalid_request, "max_tokens: Field required", "max_tokens");
  EXPECT_EQ(anthropic_messages_surface().error_body(e),
            R"({"type":"error","error":{"type":"invalid_request_error",)"
            R"("message":"max_tokens: Field required"}})");
  EXPECT_EQ(http_status(e), 400);
  const api_error unknown = make_error(errc::model_not_found, "The model `x` does not exist.");
  EXPECT_EQ(json::parse(anthropic_messages_surface().error_body(unknown)).at("error").at("type"),
            "not_found_error");
  EXPECT_EQ(http_status(unknown), 404);
}

TEST(anthropic_surface, names_its_prefixes) {
  const surface& s = anthropic_messages_surface();
  EXPECT_EQ(s.name(), "anthropic_messages");
  EXPECT_EQ(s.id_prefix(), "msg_");
  EXPECT_EQ(s.call_id_prefix(), "toolu_");
  EXPECT_EQ(&s, &anthropic_messages_surface());
}

}  // namespace
}  // namespace zai
