// The Worker's completion flow, built natively (it is plain C++) and driven the way
// worker/src/worker.js drives it, with OpenSSL's HMAC standing in for the host's.
#include "wasm/completion_flow.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stream_test_support.hpp"
#include "native/hmac_openssl.hpp"
#include "wasm/gateway.hpp"

namespace zai::wasm {

hmac_digest host_hmac_sha256(std::string_view key, std::string_view message) {
  return native::hmac_sha256(key, message);
}

namespace {

constexpr double t0 = 1'780'000'000'000;  // ms since the epoch
constexpr std::string_view jwt =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjhmMzY4YzFiLWM2NDUtNDhjNy05NmIwLTI0NTZhY2M1MG"
    "I3OSIsImVtYWlsIjoiZ3Vlc3QtMTc4MjQxMzI0MTE0N0BndWVzdC5jb20ifQ.c2ln";

std::vector<std::string> fields(const record_writer& w) {
  std::vector<std::string> out;
  record_reader r(w.bytes());
  while (!r.done()) out.emplace_back(r.next());
  return out;
}

config test_config(int pool_size) {
  config cfg;
  cfg.zai_base_url = http_url{"http", "127.0.0.1", 8089, "", ""};
  cfg.zai_fe_version = "prod-fe-1.1.98";  // no scrape jobs
  cfg.token_pool_size = pool_size;
  cfg.api_keys = {"k"};
  return cfg;
}

std::string auth_body() {
  return std::string(R"({"id":"8f368c1b-c645-48c7-96b0-2456acc50b79","name":"Guest-1","email":"g@guest.com","token":")") +
         std::string(jwt) + "\"}";
}

// Mints every due slot as the Worker would (each job answered 200 with a guest).
int mint_all(gateway& g, double now) {
  record_writer jobs;
  const int n = g.housekeeping(now, jobs);
  const auto f = fields(jobs);
  for (std::size_t i = 0; i < f.size();) {
    EXPECT_EQ(f[i], "mint");
    const auto slot = static_cast<std::size_t>(std::stoul(f[i + 1]));
    EXPECT_EQ(f[i + 3], "http://127.0.0.1:8089/api/v1/auths/");
    g.mint_done(slot, 200, auth_body(), now);
    i += 6 + 2 * std::stoul(f[i + 5]);
  }
  return n;
}

int begin(gateway& g, bool stream, record_writer& out, std::string_view model = "glm-4.7",
          double now = t0) {
  const std::string body = std::string(R"({"model":")") + std::string(model) +
                           R"(","stream":)" + (stream ? "true" : "false") +
                           R"(,"messages":[{"role":"user","content":"Hello"}]})";
  return g.begin({"POST", "/v1/chat/completions", "Bearer k", ""}, body, false, now, out);
}

// Feeds a whole upstream body in 7-byte pieces until the flow stops reading; returns the action
// and collects what it wrote.
action feed(completion_flow& c, std::string_view body, record_writer& out, std::string& written) {
  action a = action::read;
  std::size_t at = 0;
  for (;;) {
    if (a == action::read) {
      a = at < body.size() ? c.on_bytes(body.substr(at, 7), t0, out) : c.on_end(false, t0, out);
      at += 7;
    } else if (a == action::stream_start || a == action::write) {
      if (a == action::write) written += fields(out)[0];
      a = c.next(t0, out);
    } else {
      return a;
    }
  }
}

// A gateway with its pool minted, and the completion requests the Worker would begin on it.
struct flow_test : ::testing::Test {
  explicit flow_test(int pool_size = 1) : g(test_config(pool_size), 7) { mint_all(g, t0); }

  completion_flow& start(bool stream, double now = t0) {
    const int h = begin(g, stream, out, "glm-4.7", now);
    EXPECT_GT(h, 0);
    return *g.completion(h);
  }

  gateway g;
  record_writer out;
};

struct empty_pool_flow_test : flow_test {
  empty_pool_flow_test() : flow_test(0) {}
};

bool has_header(const std::vector<std::string>& answer, std::string_view name) {
  for (std::size_t i = 2; i + 1 < answer.size(); i += 2) {
    if (answer[i] == name) return true;
  }
  return false;
}

TEST_F(flow_test, a_non_stream_completion_signs_one_request_and_answers_once) {
  const int h = begin(g, false, out);
  ASSERT_GT(h, 0);
  completion_flow& c = *g.completion(h);

  ASSERT_EQ(c.next(t0, out), action::fetch);
  const auto request = fields(out);
  EXPECT_EQ(request[0], "POST");
  EXPECT_TRUE(request[1].starts_with("http://127.0.0.1:8089/api/v2/chat/completions?"));
  EXPECT_NE(request[2].find("\"signature_prompt\":\"Hello\""), std::string::npos);
  EXPECT_EQ(g.pool().stats(pool_time(t0)).in_flight, 1u);

  ASSERT_EQ(c.on_response(200, "text/event-stream", "", "", t0, out), action::read);
  std::string written;
  ASSERT_EQ(feed(c, testing::read_sample(1), out, written), action::respond);
  const auto answer = fields(out);
  EXPECT_EQ(answer[0], "200");
  EXPECT_NE(answer[1].find("\"object\":\"chat.completion\""), std::string::npos);
  EXPECT_NE(answer[1].find("Hello! How can I help you today?"), std::string::npos);
  EXPECT_EQ(g.pool().stats(pool_time(t0)).in_flight, 0u);
  g.drop(h, t0);
}

TEST_F(flow_test, a_stream_starts_once_text_is_certain_and_ends_with_done) {
  completion_flow& c = start(true);
  ASSERT_EQ(c.next(t0, out), action::fetch);
  ASSERT_EQ(c.on_response(200, "text/event-stream", "", "", t0, out), action::read);
  std::string written;
  ASSERT_EQ(feed(c, testing::read_sample(1), out, written), action::close);
  EXPECT_TRUE(written.starts_with("data: {"));
  EXPECT_NE(written.find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_TRUE(written.ends_with("data: [DONE]\n\n"));
  EXPECT_EQ(g.pool().stats(pool_time(t0)).in_flight, 0u);
}

TEST_F(flow_test, a_401_waits_for_the_re_mint_and_retries_on_the_fresh_token) {
  completion_flow& c = start(false);
  ASSERT_EQ(c.next(t0, out), action::fetch);
  // The dead token's slot is empty with its mint due: the request waits instead of failing.
  ASSERT_EQ(c.on_response(401, "application/json", "", "{}", t0, out), action::wait_token);
  EXPECT_TRUE(g.mint_under_way(t0));
  EXPECT_EQ(mint_all(g, t0 + 5), 1);
  ASSERT_EQ(c.next(t0 + 5, out), action::fetch);
  ASSERT_EQ(c.on_response(200, "text/event-stream", "", "", t0 + 5, out), action::read);
  std::string written;
  EXPECT_EQ(feed(c, testing::read_sample(1), out, written), action::respond);
  EXPECT_EQ(fields(out)[0], "200");
}

TEST_F(flow_test, an_error_frame_before_any_text_becomes_its_http_status) {
  completion_flow& c = start(true);
  ASSERT_EQ(c.next(t0, out), action::fetch);
  ASSERT_EQ(c.on_response(200, "text/event-stream", "", "", t0, out), action::read);
  std::string written;
  ASSERT_EQ(feed(c, testing::read_sample(9), out, written), action::respond);
  EXPECT_TRUE(written.empty());
  const auto answer = fields(out);
  EXPECT_EQ(answer[0], "403");
  EXPECT_NE(answer[1].find("model_requires_login"), std::string::npos);
}

TEST_F(empty_pool_flow_test, an_empty_pool_is_a_503_with_retry_after_and_no_upstream_request) {
  completion_flow& c = start(false);
  ASSERT_EQ(c.next(t0, out), action::respond);
  const auto answer = fields(out);
  EXPECT_EQ(answer[0], "503");
  EXPECT_NE(answer[1].find("no_token_available"), std::string::npos);
  EXPECT_TRUE(has_header(answer, "Retry-After"));
}

TEST_F(flow_test, transport_failures_retry_then_answer_504) {
  completion_flow& c = start(false);
  action a = c.next(t0, out);
  int attempts = 0;
  while (a == action::fetch) {
    ++attempts;
    a = c.on_failure(true, t0, out);
  }
  ASSERT_EQ(a, action::respond);
  EXPECT_EQ(fields(out)[0], "504");
  EXPECT_GE(attempts, 1);
  EXPECT_LE(attempts, 3);
}

// The isolate's WAF breaker, as the Worker drives it: a block page answers 503 without its HTML
// and opens the breaker; until the cool-down ends no request is fetched; then one probe goes,
// and its success closes the breaker for everyone.
TEST_F(flow_test, a_waf_block_opens_the_isolate_breaker_until_a_probe_passes) {
  const std::string page = "<!DOCTYPE html><html><title>405</title>errors.aliyun.com</html>";
  completion_flow& blocked = start(false);
  ASSERT_EQ(blocked.next(t0, out), action::fetch);
  ASSERT_EQ(blocked.on_response(405, "text/html", "", page, t0, out), action::respond);
  auto answer = fields(out);
  EXPECT_EQ(answer[0], "503");
  EXPECT_NE(answer[1].find("upstream_blocked"), std::string::npos);
  EXPECT_EQ(answer[1].find('<'), std::string::npos);
  EXPECT_TRUE(has_header(answer, "Retry-After"));
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::open);
  EXPECT_EQ(g.pool().stats(pool_time(t0)).in_flight, 0u);

  // During the cool-down (10 s by default) the upstream is not called at all.
  completion_flow& refused = start(false, t0 + 5'000);
  ASSERT_EQ(refused.next(t0 + 5'000, out), action::respond);
  answer = fields(out);
  EXPECT_EQ(answer[0], "503");
  EXPECT_NE(answer[1].find("upstream_blocked"), std::string::npos);
  EXPECT_TRUE(has_header(answer, "Retry-After"));

  // After it, one request probes; another is refused (503) until the probe's verdict.
  const double later = t0 + 10'001;
  completion_flow& probe = start(true, later);
  ASSERT_EQ(probe.next(later, out), action::fetch);
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::probing);
  completion_flow& during_probe = start(false, later);
  ASSERT_EQ(during_probe.next(later, out), action::respond);
  EXPECT_EQ(fields(out)[0], "503");

  // The probe's verdict is its answer, judged at the first text (a 200 can still carry an
  // error frame), so the breaker closes then, not at the status line.
  ASSERT_EQ(probe.on_response(200, "text/event-stream", "", "", later, out), action::read);
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::probing);
  std::string written;
  ASSERT_EQ(feed(probe, testing::read_sample(1), out, written), action::close);
  EXPECT_TRUE(written.ends_with("data: [DONE]\n\n"));
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::closed);

  completion_flow& after = start(false, later);
  EXPECT_EQ(after.next(later, out), action::fetch);
}

TEST_F(flow_test, a_blocked_probe_doubles_the_cool_down) {
  const std::string page = "<!doctype html><html>blocked</html>";
  completion_flow& first = start(false);
  ASSERT_EQ(first.next(t0, out), action::fetch);
  ASSERT_EQ(first.on_response(405, "text/html", "", page, t0, out), action::respond);
  EXPECT_EQ(g.breaker().cooldown(), std::chrono::seconds(10));

  const double later = t0 + 10'001;
  completion_flow& probe = start(false, later);
  ASSERT_EQ(probe.next(later, out), action::fetch);
  ASSERT_EQ(probe.on_response(405, "text/html", "", page, later, out), action::respond);
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::open);
  EXPECT_EQ(g.breaker().cooldown(), std::chrono::seconds(20));

  // 10 s on, the old cool-down would have ended; the doubled one has not.
  completion_flow& still_refused = start(false, later + 10'001);
  EXPECT_EQ(still_refused.next(later + 10'001, out), action::respond);
  EXPECT_EQ(fields(out)[0], "503");
}

TEST(completion_flow, completions_over_max_concurrent_streams_get_429_until_one_is_dropped) {
  config cfg = test_config(1);
  cfg.max_concurrent_streams = 2;
  gateway g(cfg, 7);
  mint_all(g, t0);
  record_writer out;
  const int first = begin(g, true, out);
  const int second = begin(g, false, out);
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);
  EXPECT_EQ(begin(g, false, out), 0);
  const auto answer = fields(out);
  EXPECT_EQ(answer[0], "429");
  EXPECT_NE(answer[1].find("too_many_concurrent_requests"), std::string::npos);
  EXPECT_TRUE(has_header(answer, "Retry-After"));
  g.drop(first, t0);
  EXPECT_GT(begin(g, false, out), 0);
}

TEST(completion_flow, the_front_door_and_validation_answer_before_any_completion) {
  gateway g(test_config(1), 7);
  record_writer out;
  EXPECT_EQ(g.begin({"GET", "/v1/models", "", ""}, "", false, t0, out), 0);
  EXPECT_EQ(fields(out)[0], "200");
  EXPECT_EQ(g.begin({"POST", "/v1/chat/completions", "", ""}, "{}", false, t0, out), 0);
  EXPECT_EQ(fields(out)[0], "401");
  EXPECT_EQ(begin(g, false, out, "no-such-model"), 0);
  EXPECT_EQ(fields(out)[0], "404");
  EXPECT_EQ(g.begin({"POST", "/v1/chat/completions", "Bearer k", ""}, "", true, t0, out), 0);
  EXPECT_EQ(fields(out)[0], "413");
}

}  // namespace
}  // namespace zai::wasm
