#include "core/api/front_door.hpp"

#include "core/api/surface.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

std::optional<std::string> header(const plain_response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::optional<plain_response> answer(std::string_view method, std::string_view target,
                                     std::string_view authorization = "Bearer k",
                                     std::string_view origin = "", config cfg = {}) {
  cfg.api_keys = {"k", "k2"};
  token_pool_stats stats;
  stats.total = 2;
  stats.ready = 1;
  return answer_front_door({method, target, authorization, origin}, cfg, {stats, "prod-fe-1.2.3"})
      .response;
}

TEST(front_door, routes_by_path_and_method_and_strips_the_query) {
  EXPECT_EQ(match_route("/health", "GET").id, route_id::health);
  EXPECT_EQ(match_route("/health", "HEAD").id, route_id::health);
  EXPECT_EQ(match_route(request_path("/v1/chat/completions/?x=1"), "POST").id, route_id::completion);
  EXPECT_EQ(match_route("/v1/models/glm-4.7", "GET").id, route_id::model);
  const auto wrong = match_route("/v1/chat/completions", "GET");
  EXPECT_FALSE(wrong.id);
  EXPECT_TRUE(wrong.path_known);
  EXPECT_FALSE(match_route("/nope", "GET").path_known);
}

TEST(front_door, unknown_paths_are_404_and_wrong_methods_405_with_allow) {
  const auto missing = answer("GET", "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("Unknown path: /nope"), std::string::npos);
  const auto wrong = answer("GET", "/v1/chat/completions");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(header(*wrong, "Allow"), "POST, OPTIONS");
  EXPECT_EQ(header(*wrong, "x-should-retry"), "false");
}

TEST(front_door, completions_need_a_key_and_models_accept_none_but_not_a_wrong_one) {
  EXPECT_EQ(answer("POST", "/v1/chat/completions", "")->status, 401);
  EXPECT_EQ(answer("POST", "/v1/chat/completions", "Bearer nope")->status, 401);
  EXPECT_EQ(answer("POST", "/v1/chat/completions", "k2")->status, 401);  // no Bearer
  EXPECT_FALSE(answer("POST", "/v1/chat/completions", "Bearer k2"));     // on to the completion
  EXPECT_EQ(answer("GET", "/v1/models", "")->status, 200);
  EXPECT_EQ(answer("GET", "/v1/models", "Bearer nope")->status, 401);
  EXPECT_EQ(answer("GET", "/v1/models/glm-4.7", "")->status, 200);
  EXPECT_EQ(answer("GET", "/v1/models/nope", "")->status, 404);
}

TEST(front_door, the_key_may_come_as_x_api_key_too) {
  config cfg;
  cfg.api_keys = {"k"};
  const auto with = [&](std::string_view authorization, std::string_view api_key) {
    return answer_front_door({"POST", "/v1/chat/completions", authorization, "", api_key}, cfg,
                             {});
  };
  EXPECT_FALSE(with("", "k").response);
  EXPECT_EQ(with("", "nope").response->status, 401);
  EXPECT_FALSE(with("Bearer k", "nope").response);  // the bearer key decides
  EXPECT_EQ(with("Bearer nope", "k").response->status, 401);
  const auto route = with("", "k");
  EXPECT_EQ(route.route, route_id::completion);
  EXPECT_EQ(route.api->name(), "openai_chat");
}

TEST(front_door, health_reports_numbers_and_readiness) {
  const auto h = answer("GET", "/health", "");
  EXPECT_EQ(h->body,
            "{\"status\":\"ok\",\"pool\":{\"ready\":1,\"total\":2,\"busy\":0,\"cooling\":0,"
            "\"benched\":0,\"minting\":0,\"in_flight\":0},\"fe_version\":\"prod-fe-1.2.3\","
            "\"waf_breaker\":{\"state\":\"closed\",\"retry_after_ms\":0,\"cooldown_ms\":0,"
            "\"blocks\":0}}");
  EXPECT_EQ(answer("GET", "/healthz", "")->body, "{\"status\":\"ok\"}");

  using namespace std::chrono_literals;
  waf_breaker breaker({2s, 8s, 1});
  breaker.blocked(waf_breaker::time_point{}, false, 1);
  const breaker_status open = describe_breaker(breaker, waf_breaker::time_point{} + 500ms);
  EXPECT_EQ(open.state, "open");
  EXPECT_EQ(open.retry_after_ms, 1500);
  EXPECT_EQ(open.cooldown_ms, 2000);
  EXPECT_EQ(open.blocks, 1u);
  EXPECT_EQ(answer("GET", "/readyz", "")->status, 200);
}

TEST(front_door, cors_grants_any_origin_or_only_listed_ones) {
  const auto preflight = answer("OPTIONS", "/v1/chat/completions", "", "https://a.example");
  EXPECT_EQ(preflight->status, 204);
  EXPECT_TRUE(preflight->body.empty());
  EXPECT_EQ(header(*preflight, "Access-Control-Allow-Origin"), "*");

  config cfg;
  cfg.cors_allow_origins = {"https://a.example"};
  const auto listed = answer("GET", "/healthz", "", "https://a.example", cfg);
  EXPECT_EQ(header(*listed, "Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(header(*listed, "Vary"), "Origin");
  const auto other = answer("GET", "/healthz", "", "https://b.example", cfg);
  EXPECT_FALSE(header(*other, "Access-Control-Allow-Origin"));
}

TEST(front_door, errors_carry_retry_after_where_the_table_says) {
  const auto h = error_headers(make_error(errc::no_token_available));
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].first, "Retry-After");
  EXPECT_EQ(h[0].second, "2");
}

TEST(front_door, a_stream_head_is_sse_unbuffered_and_granted_cors) {
  const auto h = stream_headers("", config{});
  const plain_response r{200, h, ""};
  EXPECT_EQ(header(r, "Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(r, "X-Accel-Buffering"), "no");
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "*");
}

}  // namespace
}  // namespace zai
