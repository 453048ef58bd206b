#include "core/flow/upstream_verdict.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

upstream_error fault(upstream_fault f, std::string detail = "x") { return {f, std::move(detail), ""}; }

TEST(upstream_verdict, http_401_remints_the_token_and_retries_once) {
  attempt_budget b;
  b.attempts = 1;
  auto v = judge_http_status(401, "application/json", "{}", std::nullopt, b);
  EXPECT_EQ(v.token, lease_outcome::unauthorized);
  EXPECT_TRUE(v.retry);
  b.attempts = 2;
  v = judge_http_status(401, "application/json", "{}", std::nullopt, b);
  EXPECT_EQ(v.token, lease_outcome::unauthorized);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(http_status(v.error), 502);
}

TEST(upstream_verdict, http_429_cools_the_token_and_retries_on_another_within_budget) {
  attempt_budget b;
  b.attempts = 1;
  auto v = judge_http_status(429, "application/json", "{}", 7, b);
  EXPECT_EQ(v.token, lease_outcome::rate_limited);
  EXPECT_EQ(v.token_retry_after_seconds, 7);
  EXPECT_TRUE(v.retry);
  b.attempts = b.max_attempts;
  v = judge_http_status(429, "application/json", "{}", 7, b);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(http_status(v.error), 429);
  EXPECT_EQ(retry_after_seconds(v.error), 7);
}

TEST(upstream_verdict, waf_block_page_is_a_503_without_html_and_refreshes_fe_version) {
  attempt_budget b;
  b.attempts = 1;
  const std::string page = "<!doctypehtml><html><title>405</title>errors.aliyun.com</html>";
  auto v = judge_http_status(405, "text/html", page, std::nullopt, b);
  EXPECT_FALSE(v.retry);
  EXPECT_TRUE(v.refresh_fe_version);
  EXPECT_TRUE(v.waf_block);
  EXPECT_EQ(v.error.code, errc::upstream_blocked);
  EXPECT_EQ(http_status(v.error), 503);
  EXPECT_EQ(error_body(v.error).find('<'), std::string::npos);
}

TEST(upstream_verdict, a_block_opens_the_breaker_and_its_error_carries_the_wait) {
  using namespace std::chrono_literals;
  waf_breaker breaker({10s, 60s, 1});
  const waf_breaker::time_point t0{};
  attempt_budget b;
  b.attempts = 1;
  auto v = judge_http_status(405, "text/html", "<!doctype html>", std::nullopt, b);
  report_to_breaker(breaker, t0, false, true, &v, 1);
  EXPECT_EQ(breaker.current(), waf_breaker::state::open);
  EXPECT_EQ(retry_after_seconds(v.error), 10);
  EXPECT_TRUE(v.retry_on_new_version);  // the first block may be a stale front-end version

  const auto probe = breaker.admit(t0 + 10s);
  ASSERT_TRUE(probe.probe);
  report_to_breaker(breaker, t0 + 10s, true, false, nullptr, 2);  // no answer: next one probes
  ASSERT_TRUE(breaker.admit(t0 + 10s).probe);
  auto other = judge_http_status(500, "application/json", "{}", std::nullopt, b);
  report_to_breaker(breaker, t0 + 11s, true, true, &other, 3);  // not a block: the breaker closes
  EXPECT_EQ(breaker.current(), waf_breaker::state::closed);
  EXPECT_FALSE(other.waf_block);

  const api_error refusal = breaker_refusal(7s);
  EXPECT_EQ(http_status(refusal), 503);
  EXPECT_EQ(retry_after_seconds(refusal), 7);
}

TEST(upstream_verdict, http_426_refreshes_fe_version_and_retries_once) {
  attempt_budget b;
  b.attempts = 1;
  auto v = judge_http_status(426, "application/json", "{}", std::nullopt, b);
  EXPECT_TRUE(v.refresh_fe_version);
  EXPECT_TRUE(v.retry);
  v = judge_http_status(426, "application/json", "{}", std::nullopt, b);
  EXPECT_FALSE(v.retry);
}

TEST(upstream_verdict, http_400_signature_failure_is_a_502_not_retried) {
  attempt_budget b;
  b.attempts = 1;
  auto v = judge_http_status(400, "application/json", "{\"detail\":\"403: Signature\"}",
                             std::nullopt, b);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(http_status(v.error), 502);
  EXPECT_EQ(v.token, lease_outcome::failure);
}

TEST(upstream_verdict, captcha_missing_without_provider_is_a_503_that_names_the_setting) {
  attempt_budget b;
  b.attempts = 1;
  auto v = judge_stream_error(fault(upstream_fault::captcha_missing), b);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(http_status(v.error), 503);
  EXPECT_NE(error_body(v.error).find("CAPTCHA_PROVIDER_URL"), std::string::npos);
}

TEST(upstream_verdict, captcha_errors_with_a_provider_retry_once_with_a_fresh_value) {
  attempt_budget b;
  b.attempts = 1;
  b.captcha_provider = true;
  EXPECT_TRUE(judge_stream_error(fault(upstream_fault::captcha_failed), b).retry);
  b.attempts = 2;
  EXPECT_FALSE(judge_stream_error(fault(upstream_fault::captcha_failed), b).retry);
}

TEST(upstream_verdict, captcha_still_missing_with_a_provider_blames_the_provider) {
  attempt_budget b;
  b.attempts = 2;
  b.captcha_provider = true;
  b.captcha_retried = true;
  const auto v = judge_stream_error(fault(upstream_fault::captcha_missing), b);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(v.error.code, errc::captcha_failed);
  EXPECT_EQ(http_status(v.error), 503);
  EXPECT_NE(v.error.message.find("gave no usable"), std::string::npos);
}

TEST(upstream_verdict, model_level_errors_map_to_403_and_404) {
  attempt_budget b;
  b.attempts = 1;
  auto v = judge_stream_error(fault(upstream_fault::model_requires_login), b);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(http_status(v.error), 403);
  v = judge_stream_error(fault(upstream_fault::model_not_found), b);
  EXPECT_EQ(http_status(v.error), 404);
}

TEST(upstream_verdict, in_stream_401_remints_once) {
  attempt_budget b;
  b.attempts = 1;
  auto v = judge_stream_error(fault(upstream_fault::token_invalid), b);
  EXPECT_EQ(v.token, lease_outcome::unauthorized);
  EXPECT_TRUE(v.retry);
  EXPECT_FALSE(judge_stream_error(fault(upstream_fault::token_invalid), b).retry);
}

TEST(upstream_verdict, truncated_streams_count_against_the_token_and_stop_at_the_budget) {
  attempt_budget b;
  b.attempts = 3;
  auto v = judge_stream_error(fault(upstream_fault::truncated), b);
  EXPECT_EQ(v.token, lease_outcome::failure);
  EXPECT_FALSE(v.retry);
  EXPECT_EQ(http_status(v.error), 502);
}

TEST(upstream_verdict, transport_failures_are_not_the_tokens_fault) {
  attempt_budget b;
  auto v = judge_transport_failure(true, b);
  EXPECT_EQ(v.token, lease_outcome::ok);
  EXPECT_EQ(http_status(v.error), 504);
  v = judge_transport_failure(false, b);
  EXPECT_EQ(http_status(v.error), 502);
}

TEST(upstream_verdict, a_stream_cut_by_silence_is_a_timeout_not_a_truncation) {
  EXPECT_EQ(http_status(stream_error_to_api_error(fault(upstream_fault::truncated), true)), 504);
  EXPECT_EQ(http_status(stream_error_to_api_error(fault(upstream_fault::truncated), false)), 502);
  EXPECT_EQ(http_status(stream_error_to_api_error(fault(upstream_fault::captcha_missing), true)),
            503);
}

}  // namespace
}  // namespace zai
