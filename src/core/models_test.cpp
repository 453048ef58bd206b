#include "core/models.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace zai {
namespace {

resolved_model must_resolve(const model_table& table, std::string_view id) {
  const auto r = resolve_model(table, id);
  EXPECT_TRUE(r.has_value()) << id;
  return r.has_value() ? *r : resolved_model{};
}

TEST(models, builtin_table_maps_public_ids_to_upstream_ids) {
  const model_table table = builtin_models();
  const std::pair<std::string_view, std::string_view> expected[] = {
      {"glm-4.7", "glm-4.7"},
      {"glm-4.6", "GLM-4-6-API-V1"},
      {"glm-4.5", "0727-360B-API"},
      {"glm-4.6v", "glm-4.6v"},
      {"glm-5", "glm-5"},
      {"glm-5.1", "GLM-5.1"},
      {"glm-5.2", "glm-5.2"},
      {"glm-5.3", "glm-5.3"},
      {"glm-5.3-flash", "glm-5.3-flash"},
  };
  for (const auto& [id, upstream] : expected) {
    EXPECT_EQ(must_resolve(table, id).upstream_id, upstream) << id;
  }
  EXPECT_TRUE(must_resolve(table, "glm-4.7").thinking);
  EXPECT_FALSE(must_resolve(table, "glm-4.6").thinking);
}

TEST(models, lookup_ignores_case_and_reports_the_listed_id) {
  const resolved_model m = must_resolve(builtin_models(), "GLM-4.7");
  EXPECT_EQ(m.id, "glm-4.7");
  EXPECT_EQ(m.upstream_id, "glm-4.7");
}

TEST(models, suffixes_switch_features_on) {
  const model_table table = builtin_models();
  const resolved_model thinking = must_resolve(table, "glm-4.6-thinking");
  EXPECT_EQ(thinking.upstream_id, "GLM-4-6-API-V1");
  EXPECT_TRUE(thinking.thinking);
  EXPECT_FALSE(thinking.web_search);
  EXPECT_EQ(thinking.id, "glm-4.6-thinking");

  const resolved_model both = must_resolve(table, "GLM-4.5-Thinking-Search");
  EXPECT_EQ(both.upstream_id, "0727-360B-API");
  EXPECT_TRUE(both.thinking);
  EXPECT_TRUE(both.web_search);
  EXPECT_EQ(both.id, "glm-4.5-thinking-search");

  EXPECT_TRUE(resolve_model(table, "glm-4.7-search-search").has_error());
  EXPECT_TRUE(resolve_model(table, "-thinking").has_error());
}

TEST(models, unknown_model_is_openai_model_not_found) {
  const auto r = resolve_model(builtin_models(), "gpt-4o");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code, errc::model_not_found);
  EXPECT_EQ(http_status(r.error()), 404);
  EXPECT_EQ(r.error().message,
            "The model `gpt-4o` does not exist or you do not have access to it.");
  EXPECT_EQ(r.error().param, "");
}

TEST(models, zai_models_json_adds_repoints_and_removes) {
  const auto merged = merge_models_json(builtin_models(), R"({
      "glm-6": "GLM-6-Preview",
      "glm-4.7": {"upstream": "glm-4.7-0101", "web_search": true},
      "glm-4.5": null,
      "mini": {"thinking": true, "created": 5}})");
  ASSERT_TRUE(merged.has_value()) << merged.error();
  EXPECT_EQ(must_resolve(*merged, "glm-6").upstream_id, "GLM-6-Preview");
  const resolved_model repointed = must_resolve(*merged, "glm-4.7");
  EXPECT_EQ(repointed.upstream_id, "glm-4.7-0101");
  EXPECT_TRUE(repointed.thinking);  // kept from the built-in entry
  EXPECT_TRUE(repointed.web_search);
  EXPECT_TRUE(resolve_model(*merged, "glm-4.5").has_error());
  EXPECT_EQ(must_resolve(*merged, "mini").upstream_id, "mini");
  EXPECT_EQ(merged->models.size(), builtin_models().models.size() + 1);
}

TEST(models, zai_models_json_errors_name_the_member) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"{", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"x": 3})", "model \"x\": expected"},
      {R"({"x": ""})", "model \"x\": upstream id must not be empty"},
      {R"({"x": {"thinking": "yes"}})", "\"thinking\" must be true or false"},
      {R"({"x": {"upstream": 1}})", "\"upstream\" must be a non-empty string"},
      {R"({"x": {"created": -1}})", "\"created\" must be a non-negative integer"},
      {R"({"x": {"modle": "y"}})", "unknown field \"modle\""},
      {R"({"": "y"})", "must not be empty"},
  };
  for (const auto& [json, message] : cases) {
    const auto merged = merge_models_json(builtin_models(), json);
    ASSERT_TRUE(merged.has_error()) << json;
    EXPECT_NE(merged.error().find(message), std::string::npos) << merged.error();
    EXPECT_EQ(merged.error().find('\n'), std::string::npos);
  }
}

// Ids and field names come from JSON, where "\n" is one escape away; the error is one line.
TEST(models, zai_models_errors_quote_names_on_one_line) {
  const auto bad_id = merge_models_json(builtin_models(), R"({"a\nb": 3})");
  ASSERT_TRUE(bad_id.has_error());
  EXPECT_NE(bad_id.error().find("model \"a?b\": expected"), std::string::npos) << bad_id.error();
  const auto bad_key = merge_models_json(builtin_models(), R"({"x": {"m\r\u0000": 1}})");
  ASSERT_TRUE(bad_key.has_error());
  EXPECT_NE(bad_key.error().find("unknown field \"m??\""), std::string::npos) << bad_key.error();
}

TEST(models, list_json_has_openai_shape) {
  boost::json::value list = boost::json::parse(models_list_json(builtin_models()));
  EXPECT_EQ(list.at("object"), "list");
  const boost::json::array& data = list.at("data").as_array();
  ASSERT_EQ(data.size(), builtin_models().models.size());
  for (const boost::json::value& m : data) {
    EXPECT_EQ(m.as_object().size(), 4u);
    EXPECT_TRUE(m.at("id").is_string());
    EXPECT_EQ(m.at("object"), "model");
    EXPECT_GT(m.at("created").as_int64(), 1700000000);
    EXPECT_EQ(m.at("owned_by"), "z-ai");
  }
  EXPECT_EQ(data[0].at("id"), "glm-4.7");
}

TEST(models, object_json_serves_one_model_or_model_not_found) {
  const auto one = model_object_json(builtin_models(), "glm-4.7");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, R"({"id":"glm-4.7","object":"model","created":1766448000,"owned_by":"z-ai"})");
  const auto suffixed = model_object_json(builtin_models(), "glm-4.7-thinking");
  ASSERT_TRUE(suffixed.has_value());
  EXPECT_NE(suffixed->find(R"("id":"glm-4.7-thinking")"), std::string::npos);
  const auto missing = model_object_json(builtin_models(), "nope");
  ASSERT_TRUE(missing.has_error());
  EXPECT_EQ(missing.error().code, errc::model_not_found);
}

}  // namespace
}  // namespace zai
