#include <gtest/gtest.h>

#include "core/zai/request.hpp"

namespace zai {
namespace {

constexpr std::string_view fixture_jwt =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpZCI6IjhmMzY4YzFiLWM2NDUtNDhjNy05NmIwLTI0NTZhY2M1MGI3OSIsImVtYWlsIjoiZ3Vlc3QtMTc4MjQxMzI0MT"
    "E0N0BndWVzdC5jb20ifQ.c2ln";

std::string header(const upstream_request& r, std::string_view name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "<absent>";
}

TEST(guest_auth, request_is_an_anonymous_get_of_auths) {
  config cfg;
  const upstream_request r = build_guest_auth_request(cfg, "prod-fe-1.1.98");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/api/v1/auths/");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(header(r, "Authorization"), "<absent>");
  EXPECT_EQ(header(r, "Origin"), "https://chat.z.ai");
  EXPECT_EQ(header(r, "Referer"), "https://chat.z.ai/");
  EXPECT_EQ(header(r, "User-Agent"), cfg.zai_user_agent);
  EXPECT_EQ(header(r, "Accept"), "application/json");
  EXPECT_EQ(header(r, "X-FE-Version"), "prod-fe-1.1.98");

  cfg.zai_base_url = http_url{"http", "127.0.0.1", 9000, "/zai", ""};
  const upstream_request local = build_guest_auth_request(cfg, "");
  EXPECT_EQ(local.target, "/zai/api/v1/auths/");
  EXPECT_EQ(header(local, "Referer"), "http://127.0.0.1:9000/zai/");
  EXPECT_EQ(header(local, "X-FE-Version"), "<absent>");
  EXPECT_EQ(header(build_guest_auth_request(cfg, "bad\r\nversion"), "X-FE-Version"), "<absent>");
}

TEST(guest_auth, parses_the_flat_response) {
  const std::string body = R"({"id":"8f368c1b-c645-48c7-96b0-2456acc50b79",
      "email":"guest-1782413241147@guest.com","name":"Guest-1782413241147","role":"guest",
      "token":")" + std::string(fixture_jwt) +
                           R"(","token_type":"Bearer","expires_at":null,"permissions":{}})";
  const auto token = parse_guest_auth_response(body);
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(token->jwt, fixture_jwt);
  EXPECT_EQ(token->user_id, "8f368c1b-c645-48c7-96b0-2456acc50b79");
  EXPECT_EQ(token->name, "Guest-1782413241147");
  EXPECT_EQ(token->email, "guest-1782413241147@guest.com");
}

TEST(guest_auth, parses_the_nested_user_form) {
  const std::string body =
      R"({"token":")" + std::string(fixture_jwt) +
      R"(","user":{"id":"u-9","email":"e@x","name":"Guest-9","role":"pending"}})";
  const auto token = parse_guest_auth_response(body);
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(token->user_id, "u-9");
  EXPECT_EQ(token->name, "Guest-9");
  EXPECT_EQ(token->email, "e@x");
}

TEST(guest_auth, falls_back_to_the_jwt_for_the_id) {
  const auto token =
      parse_guest_auth_response(R"({"token":")" + std::string(fixture_jwt) + R"("})");
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(token->user_id, "8f368c1b-c645-48c7-96b0-2456acc50b79");
  EXPECT_EQ(token->email, "guest-1782413241147@guest.com");
  EXPECT_EQ(token->name, "Guest");
  // `user_id` / `uid` spellings in the answer itself come before the JWT.
  EXPECT_EQ(parse_guest_auth_response(R"({"token":"a.b.c","uid":77})")->user_id, "77");
}

TEST(guest_auth, rejects_answers_without_a_usable_token) {
  const std::string_view bad[] = {
      "<html>blocked</html>",
      "[]",
      R"({"id":"x"})",
      R"({"token":""})",
      R"({"token":7})",
      R"({"token":"abc\r\nX-Injected: 1","id":"x"})",
      R"({"token":"not a jwt","id":"x"})",
      R"({"token":"a.b.c"})",  // no id anywhere, and the payload is not JSON
  };
  for (std::string_view body : bad) {
    const auto token = parse_guest_auth_response(body);
    ASSERT_TRUE(token.has_error()) << body;
    EXPECT_EQ(token.error().code, errc::upstream_error);
  }
}

TEST(fe_version, front_page_request_is_a_plain_get) {
  config cfg;
  const upstream_request r = build_front_page_request(cfg);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(header(r, "Accept-Encoding"), "identity");
  cfg.zai_base_url.path = "/zai";
  EXPECT_EQ(build_front_page_request(cfg).target, "/zai/");
}

TEST(fe_version, scrape_takes_the_highest_version_by_number) {
  EXPECT_EQ(scrape_fe_version(R"(<script src="/frontend/prod-fe-1.1.98/assets/index-abc.js">)"),
            "prod-fe-1.1.98");
  EXPECT_EQ(scrape_fe_version("prod-fe-1.1.98 prod-fe-1.1.100 prod-fe-1.0.272"), "prod-fe-1.1.100");
  EXPECT_EQ(scrape_fe_version("prod-fe-2.0.0/prod-fe-10.0.0"), "prod-fe-10.0.0");
}

TEST(fe_version, scrape_ignores_what_is_not_a_version) {
  EXPECT_EQ(scrape_fe_version(""), std::nullopt);
  EXPECT_EQ(scrape_fe_version("<html>no build here</html>"), std::nullopt);
  EXPECT_EQ(scrape_fe_version("prod-fe-1.1 prod-fe-x.1.2 prod-fe-1..2 prod-fe-"), std::nullopt);
  EXPECT_EQ(scrape_fe_version("prod-fe-1.1.1234567890123"), std::nullopt);
  EXPECT_EQ(scrape_fe_version("prod-fe-1.1.9.js prod-fe-1.1"), "prod-fe-1.1.9");
}

}  // namespace
}  // namespace zai
