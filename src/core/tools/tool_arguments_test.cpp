#include "core/tools/tool_arguments.hpp"

#include <gtest/gtest.h>

namespace zai::tools {
namespace {

constexpr std::string_view schema_text = R"({"type":"object","properties":{
  "path":{"type":"string"},"limit":{"type":"integer"},"ratio":{"type":"number"},
  "force":{"type":"boolean"},"paths":{"type":"array","items":{"type":"string"}},
  "options":{"type":"object","properties":{"depth":{"type":"integer"}}},
  "mode":{"enum":["fast","slow"]},"maybe":{"type":["integer","null"]},
  "either":{"anyOf":[{"type":"integer"},{"type":"boolean"}]}}})";

std::string typed(std::string_view key, std::string_view written) {
  return boost::json::serialize(tool_schema(schema_text).typed_value(key, written));
}

std::string coerced(std::string_view arguments) {
  boost::json::object o = boost::json::parse(arguments).as_object();
  tool_schema(schema_text).coerce(o);
  return boost::json::serialize(o);
}

TEST(tool_arguments, strings_are_text_and_everything_else_is_typed) {
  const tool_schema s(schema_text);
  EXPECT_TRUE(s.takes_text("path"));
  EXPECT_TRUE(s.takes_text("mode"));  // an enum of strings
  for (std::string_view key : {"limit", "ratio", "force", "paths", "options", "maybe", "unknown"}) {
    EXPECT_FALSE(s.takes_text(key)) << key;
  }
}

TEST(tool_arguments, typed_values_read_as_their_schema_says) {
  EXPECT_EQ(typed("limit", " 40\n"), "40");
  EXPECT_EQ(typed("limit", "40.0"), "40");
  EXPECT_EQ(typed("ratio", "0.5"), "5E-1");
  EXPECT_EQ(typed("force", "True"), "true");
  EXPECT_EQ(typed("paths", R"(["a", 'b'])"), R"(["a","b"])");
  EXPECT_EQ(typed("paths", "src/main.cpp"), R"(["src/main.cpp"])");  // one item
  EXPECT_EQ(typed("options", R"({"depth": "2"})"), R"({"depth":2})");
  EXPECT_EQ(typed("maybe", "null"), "null");
  EXPECT_EQ(typed("either", "false"), "false");
  // Without a schema: JSON when it is JSON, else the text.
  EXPECT_EQ(typed("unknown", "12"), "12");
  EXPECT_EQ(typed("unknown", "007"), R"("007")");
  EXPECT_EQ(typed("unknown", "hello world"), R"("hello world")");
  // What cannot be the declared type stays what was written, for the tool to judge.
  EXPECT_EQ(typed("limit", "forty"), R"("forty")");
  EXPECT_EQ(typed("limit", "4.5"), R"("4.5")");
}

TEST(tool_arguments, json_arguments_are_coerced_where_unambiguous) {
  EXPECT_EQ(
      coerced(R"({"limit":"10","force":"false","path":42,"paths":"a","options":"{\"depth\":1}"})"),
      R"({"limit":10,"force":false,"path":"42","paths":["a"],"options":{"depth":1}})");
  EXPECT_EQ(coerced(R"({"path":{"a":1},"extra":"kept","limit":null})"),
            R"({"path":"{\"a\":1}","extra":"kept","limit":null})");
}

TEST(tool_arguments, json_calls_in_every_shape_models_write) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"name":"bash","arguments":{"command":"ls"}})", R"(bash {"command":"ls"})"},
      {R"({"tool":"bash","parameters":{"command":"ls"}})", R"(bash {"command":"ls"})"},
      {R"({"function":{"name":"bash","arguments":"{\"command\":\"ls\"}"}})",
       R"(bash {"command":"ls"})"},
      {R"({"type":"function","function":{"name":"bash","arguments":{"command":"ls"}}})",
       R"(bash {"command":"ls"})"},
      {R"({"tool_name":"bash","command":"ls","nonce":"x"})", R"(bash {"command":"ls"})"},
      {R"({"arguments":{"command":"ls"}})", R"( {"command":"ls"})"},
      {R"({"name":"apply_patch","input":"*** Begin Patch"})", R"(apply_patch "*** Begin Patch")"},
  };
  for (const auto& [text, expected] : cases) {
    const std::optional<json_call> call = read_json_call(boost::json::parse(text));
    ASSERT_TRUE(call) << text;
    EXPECT_EQ(call->name + " " + boost::json::serialize(call->arguments), expected) << text;
  }
  EXPECT_FALSE(read_json_call(boost::json::parse(R"({"version":"1.0"})")));
  EXPECT_FALSE(read_json_call(boost::json::parse(R"([1,2])")));
}

TEST(tool_arguments, a_json_call_is_told_from_its_first_member) {
  using verdict = json_call_head::verdict;
  EXPECT_EQ(peek_json_call(R"({"na)").is, verdict::undecided);
  EXPECT_EQ(peek_json_call(R"({"name": "read_)").is, verdict::undecided);
  const json_call_head named = peek_json_call(R"({"name": "read_file", "argu)");
  EXPECT_EQ(named.is, verdict::named);
  EXPECT_EQ(named.name, "read_file");
  EXPECT_EQ(peek_json_call(R"({"arguments": {)").is, verdict::arguments);
  EXPECT_EQ(peek_json_call(R"({"version": )").is, verdict::not_a_call);
  EXPECT_EQ(peek_json_call(R"([1, 2])").is, verdict::not_a_call);
  EXPECT_EQ(peek_json_call(R"({"name": 5})").is, verdict::not_a_call);
}

}  // namespace
}  // namespace zai::tools
