#include "core/models.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <vector>

namespace zai {
namespace {

resolved_model must_resolve(const model_table& table, std::string_view id) {
  const auto r = resolve_model(table, id);
  EXPECT_TRUE(r.has_value()) << id;
  return r.has_value() ? *r : resolved_model{};
}

using refusal = std::pair<std::string_view, std::string_view>;  // JSON text, part of the error

// Each JSON text merged over the built-in table is refused, on one line, saying the part given.
template <std::size_t N>
void expect_refusals(result<model_table, std::string> (*merge)(const model_table&,
                                                                std::string_view),
                     const refusal (&cases)[N]) {
  for (const auto& [json, message] : cases) {
    const auto merged = merge(builtin_models(), json);
    ASSERT_TRUE(merged.has_error()) << json;
    EXPECT_NE(merged.error().find(message), std::string::npos) << merged.error();
    EXPECT_EQ(merged.error().find('\n'), std::string::npos);
  }
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
  const refusal cases[] = {
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
  expect_refusals(merge_models_json, cases);
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
  // Every model, then every alias but the `claude-*` pattern.
  const model_table table = builtin_models();
  ASSERT_EQ(data.size(), table.models.size() + table.aliases.size() - 1);
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

TEST(models, claude_names_resolve_to_the_guest_model_under_the_clients_id) {
  const model_table table = builtin_models();
  const resolved_model named = must_resolve(table, "Claude-Sonnet-4-5");
  EXPECT_EQ(named.id, "claude-sonnet-4-5");  // the alias as listed
  EXPECT_EQ(named.upstream_id, "glm-4.7");
  EXPECT_TRUE(named.thinking);  // glm-4.7's default
  // Any other claude-… id, dated or newer than this build, takes the catch-all as sent.
  const resolved_model dated = must_resolve(table, "claude-opus-4-1-20250805");
  EXPECT_EQ(dated.id, "claude-opus-4-1-20250805");
  EXPECT_EQ(dated.upstream_id, "glm-4.7");
  EXPECT_TRUE(resolve_model(table, "claude-").has_error());  // the bare prefix names nothing
  const auto unknown = resolve_model(table, "gpt-4o");
  ASSERT_TRUE(unknown.has_error());
  EXPECT_EQ(unknown.error().code, errc::model_not_found);
}

TEST(models, listed_ids_win_over_aliases_and_exact_aliases_over_patterns) {
  auto merged = merge_aliases_json(builtin_models(), R"({
      "glm-*": "glm-4.6", "claude-opus-4-5": "glm-5", "claude-opus-*": "glm-5.1"})");
  ASSERT_TRUE(merged.has_value()) << merged.error();
  EXPECT_EQ(must_resolve(*merged, "glm-4.5").upstream_id, "0727-360B-API");  // listed
  EXPECT_EQ(must_resolve(*merged, "glm-9").upstream_id, "GLM-4-6-API-V1");   // pattern
  EXPECT_EQ(must_resolve(*merged, "claude-opus-4-5").upstream_id, "glm-5");  // exact
  EXPECT_EQ(must_resolve(*merged, "claude-opus-9").upstream_id, "GLM-5.1");  // longer pattern
  EXPECT_EQ(must_resolve(*merged, "claude-sonnet-9").upstream_id, "glm-4.7");
}

TEST(models, a_pattern_moves_the_listed_aliases_of_its_family) {
  // Whatever the order of the members, the named alias keeps its own target.
  auto merged = merge_aliases_json(builtin_models(), R"({
      "claude-sonnet-4-5": "glm-4.6", "claude-sonnet-*": "glm-5"})");
  ASSERT_TRUE(merged.has_value()) << merged.error();
  EXPECT_EQ(must_resolve(*merged, "claude-sonnet-5-5").upstream_id, "glm-5");
  EXPECT_EQ(must_resolve(*merged, "claude-sonnet-4-6").upstream_id, "glm-5");
  EXPECT_EQ(must_resolve(*merged, "claude-sonnet-4-5").upstream_id, "GLM-4-6-API-V1");
  EXPECT_EQ(must_resolve(*merged, "claude-opus-5-5").upstream_id, "glm-4.7");
  EXPECT_EQ(merged->aliases.size(), builtin_models().aliases.size() + 1);
}

TEST(models, model_aliases_json_adds_and_removes) {
  auto merged = merge_aliases_json(builtin_models(), R"({
      "sonnet": "glm-4.6-thinking", "claude-*": null, "claude-3-5-haiku-latest": null})");
  ASSERT_TRUE(merged.has_value()) << merged.error();
  const resolved_model sonnet = must_resolve(*merged, "sonnet");
  EXPECT_EQ(sonnet.id, "sonnet");
  EXPECT_EQ(sonnet.upstream_id, "GLM-4-6-API-V1");
  EXPECT_TRUE(sonnet.thinking);  // the target's suffix
  EXPECT_TRUE(resolve_model(*merged, "claude-opus-4-1").has_error());
  EXPECT_TRUE(resolve_model(*merged, "claude-3-5-haiku-latest").has_error());
  EXPECT_TRUE(resolve_model(*merged, "claude-opus-4-5").has_value());
}

TEST(models, model_aliases_json_errors_name_the_member) {
  const refusal cases[] = {
      {"{", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"": "glm-4.7"})", "alias names must not be empty"},
      {R"({"a*b": "glm-4.7"})", "alias \"a*b\": '*' may only end a pattern"},
      {R"({"GLM-4.7": "glm-4.6"})", "is a listed model id"},
      {R"({"x": 1})", "alias \"x\": expected a public model id or null"},
      {R"({"x": "gpt-4o"})", "alias \"x\": \"gpt-4o\" is not a listed model"},
      {R"({"x": "claude-opus-4-5"})", "is not a listed model"},  // no alias of an alias
  };
  expect_refusals(merge_aliases_json, cases);
}

TEST(models, an_alias_whose_model_was_removed_is_dangling) {
  EXPECT_EQ(dangling_alias(builtin_models()), "");
  const auto merged = merge_models_json(builtin_models(), R"({"glm-4.7": null})");
  ASSERT_TRUE(merged.has_value());
  EXPECT_NE(dangling_alias(*merged).find("\"claude-opus-5-5\" points to \"glm-4.7\""),
            std::string::npos)
      << dangling_alias(*merged);
  // Resolution and the list skip it rather than point nowhere.
  EXPECT_TRUE(resolve_model(*merged, "claude-opus-5-5").has_error());
  EXPECT_EQ(models_list_json(*merged).find("claude"), std::string::npos);
}

TEST(models, list_and_object_json_serve_aliases_with_their_targets_created) {
  const boost::json::value list = boost::json::parse(models_list_json(builtin_models()));
  std::vector<std::string> ids;
  for (const boost::json::value& m : list.at("data").as_array()) {
    ids.emplace_back(m.at("id").as_string());
    if (ids.back().starts_with("claude")) {
      EXPECT_EQ(m.at("created"), 1766448000);
    }
  }
  for (std::string_view id : {"claude-opus-5-5", "claude-sonnet-4-5", "claude-haiku-4-5"}) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  }
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "claude-*"), ids.end());
  const auto one = model_object_json(builtin_models(), "claude-haiku-4-5");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one,
            R"({"id":"claude-haiku-4-5","object":"model","created":1766448000,"owned_by":"z-ai"})");
  const auto dated = model_object_json(builtin_models(), "claude-haiku-4-5-20251001");
  ASSERT_TRUE(dated.has_value());
  EXPECT_NE(dated->find(R"("id":"claude-haiku-4-5-20251001")"), std::string::npos);
}

}  // namespace
}  // namespace zai
