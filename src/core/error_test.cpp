#include "core/error.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

namespace zai {
namespace {

struct expected_row {
  errc code;
  int status;
  std::string_view type;
  const char* code_text;  // nullptr: JSON null
  std::string_view anthropic_type;
  bool retry_after;
};

// The whole mapping, spelled out once more so that a change to the table is a visible decision.
constexpr expected_row expected[] = {
    {errc::invalid_request, 400, "invalid_request_error", nullptr, "invalid_request_error", false},
    {errc::invalid_json, 400, "invalid_request_error", "invalid_json",
     "invalid_request_error", false},
    {errc::previous_response_not_found, 404, "invalid_request_error",
     "previous_response_not_found", "not_found_error", false},
    {errc::unauthorized, 401, "authentication_error", "invalid_api_key",
     "authentication_error", false},
    {errc::not_found, 404, "not_found_error", "unknown_url", "not_found_error", false},
    {errc::model_not_found, 404, "invalid_request_error", "model_not_found",
     "not_found_error", false},
    {errc::response_not_found, 404, "invalid_request_error", "response_not_found",
     "not_found_error", false},
    {errc::method_not_allowed, 405, "invalid_request_error", "method_not_allowed",
     "invalid_request_error", false},
    {errc::request_timeout, 408, "invalid_request_error", "request_timeout",
     "invalid_request_error", false},
    {errc::request_too_large, 413, "invalid_request_error", "request_too_large",
     "request_too_large", false},
    {errc::headers_too_large, 431, "invalid_request_error", "request_headers_too_large",
     "request_too_large", false},
    {errc::model_requires_login, 403, "permission_error", "model_requires_login",
     "permission_error", false},
    {errc::rate_limited, 429, "rate_limit_error", "rate_limit_exceeded", "rate_limit_error", true},
    {errc::too_many_streams, 429, "rate_limit_error", "too_many_concurrent_requests",
     "rate_limit_error", true},
    {errc::overloaded, 503, "server_error", "server_overloaded", "overloaded_error", true},
    {errc::shutting_down, 503, "server_error", "server_shutting_down", "overloaded_error", true},
    {errc::no_token_available, 503, "server_error", "no_token_available", "overloaded_error", true},
    {errc::captcha_required, 503, "server_error", "captcha_required", "api_error", false},
    {errc::captcha_failed, 503, "server_error", "captcha_failed", "api_error", false},
    {errc::upstream_blocked, 503, "server_error", "upstream_blocked", "overloaded_error", true},
    {errc::upstream_error, 502, "server_error", "upstream_error", "api_error", false},
    {errc::upstream_timeout, 504, "server_error", "upstream_timeout", "timeout_error", false},
    {errc::internal, 500, "server_error", "internal_error", "api_error", false},
};

boost::json::object parse_error_object(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  EXPECT_FALSE(ec) << body;
  const boost::json::object* root = v.if_object();
  EXPECT_NE(root, nullptr);
  EXPECT_EQ(root->size(), 1u);
  const boost::json::value* error = root->if_contains("error");
  EXPECT_NE(error, nullptr);
  return error->is_object() ? error->get_object() : boost::json::object{};
}

TEST(error_table, maps_every_code_to_status_type_and_code) {
  ASSERT_EQ(error_table().size(), std::size(expected));
  for (const expected_row& row : expected) {
    SCOPED_TRACE(static_cast<int>(row.code));
    const api_error e = make_error(row.code);
    EXPECT_EQ(http_status(e), row.status);
    EXPECT_EQ(describe(row.code).type, row.type);
    EXPECT_EQ(describe(row.code).anthropic_type, row.anthropic_type);
    EXPECT_EQ(retry_after_seconds(e) > 0, row.retry_after);

    const boost::json::object error = parse_error_object(error_body(e));
    ASSERT_EQ(error.size(), 4u);
    EXPECT_EQ(error.at("type").as_string(), row.type);
    if (row.code_text == nullptr) {
      EXPECT_TRUE(error.at("code").is_null());
    } else {
      EXPECT_EQ(error.at("code").as_string(), row.code_text);
    }
    EXPECT_TRUE(error.at("param").is_null());
    // Every row has a real default message, so no client ever sees an empty one.
    EXPECT_FALSE(error.at("message").as_string().empty());
  }
}

TEST(error_table, rows_are_unique_and_in_declaration_order) {
  std::set<errc> seen;
  int next = 1;
  for (const error_info& row : error_table()) {
    EXPECT_EQ(static_cast<int>(row.code), next++);
    EXPECT_TRUE(seen.insert(row.code).second);
    EXPECT_EQ(&describe(row.code), &row);
  }
}

TEST(error_body, has_exactly_openai_shape_with_param) {
  const api_error e = make_error(errc::invalid_request, "Invalid type for 'messages[2].content'.",
                                 "messages[2].content");
  EXPECT_EQ(error_body(e),
            R"({"error":{"message":"Invalid type for 'messages[2].content'.",)"
            R"("type":"invalid_request_error","param":"messages[2].content","code":null}})");
}

TEST(error_body, escapes_message_text) {
  const api_error e = make_error(errc::internal, "a \"quoted\"\nline");
  const boost::json::object error = parse_error_object(error_body(e));
  EXPECT_EQ(error.at("message").as_string(), "a \"quoted\"\nline");
}

TEST(error_body, captcha_required_tells_the_operator_what_to_set) {
  const boost::json::object error =
      parse_error_object(error_body(make_error(errc::captcha_required)));
  EXPECT_NE(std::string_view(error.at("message").as_string()).find("CAPTCHA_PROVIDER_URL"),
            std::string_view::npos);
  EXPECT_FALSE(describe(errc::captcha_required).retryable);
}

TEST(retry_after, explicit_value_wins_over_the_default) {
  api_error e = make_error(errc::rate_limited);
  EXPECT_EQ(retry_after_seconds(e), 5);
  e.retry_after_seconds = 42;
  EXPECT_EQ(retry_after_seconds(e), 42);
  EXPECT_EQ(retry_after_seconds(make_error(errc::invalid_request)), 0);
}

TEST(error_code, errc_converts_to_std_error_code) {
  const std::error_code ec = errc::model_not_found;
  EXPECT_EQ(ec.category().name(), std::string_view("zai"));
  EXPECT_EQ(ec.message(), describe(errc::model_not_found).default_message);
  EXPECT_EQ(ec, make_error_code(errc::model_not_found));
}

TEST(result, carries_either_a_value_or_an_api_error) {
  const result<int> ok = 7;
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 7);
  const result<int> bad = make_error(errc::invalid_json);
  ASSERT_TRUE(bad.has_error());
  EXPECT_EQ(bad.error().code, errc::invalid_json);
}

}  // namespace
}  // namespace zai
