#include "core/tools/loose_json.hpp"

#include <gtest/gtest.h>

namespace zai::tools {
namespace {

std::string loose(std::string_view text) {
  const std::optional<boost::json::value> v = read_loose_json(text);
  return v ? boost::json::serialize(*v) : "<none>";
}

TEST(loose_json, strict_json_is_read_as_it_is) {
  EXPECT_EQ(loose(R"( {"a": [1, 2.5, "x", null, true]} )"), R"({"a":[1,2.5E0,"x",null,true]})");
}

TEST(loose_json, the_slips_models_make) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"{'path': 'a.txt'}", R"({"path":"a.txt"})"},
      {"{path: \"a.txt\", limit: 5}", R"({"path":"a.txt","limit":5})"},
      {"{\"on\": True, \"off\": False, \"x\": None}", R"({"on":true,"off":false,"x":null})"},
      {"{\"a\": 1,}", R"({"a":1})"},
      {"[1, 2,]", "[1,2]"},
      {"{\"a\": 1 // one\n}", R"({"a":1})"},
      {"{\"text\": \"line one\nline two\"}", R"({"text":"line one\nline two"})"},
      {"{\"a\": \"it\\'s\"}", R"({"a":"it's"})"},
      {"{\"a\": \"\\u00e9\\ud83d\\ude00\"}", "{\"a\":\"\xC3\xA9\xF0\x9F\x98\x80\"}"},
      {"{\"a\": \"\\ud800\"}", "{\"a\":\"\xEF\xBF\xBD\"}"},
      {"{\"a\": 1} trailing text", R"({"a":1})"},
      {"{\"a\": +5}", R"({"a":5})"},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(loose(text), expected) << text;
}

TEST(loose_json, text_cut_off_is_closed) {
  EXPECT_EQ(loose(R"({"path": "a.txt", "content": "hello)"),
            R"({"path":"a.txt","content":"hello"})");
  EXPECT_EQ(loose(R"({"a": [1, {"b": )"), R"({"a":[1,{"b":null}]})");
}

TEST(loose_json, what_is_no_json_value) {
  for (std::string_view text : {"", "   ", "hello", "{\"a\" 1}", "{\"a\": hello}", "-", "}"}) {
    EXPECT_EQ(loose(text), "<none>") << text;
  }
  EXPECT_EQ(loose(std::string(100, '[')), "<none>");  // deeper than 64 levels
}

}  // namespace
}  // namespace zai::tools
