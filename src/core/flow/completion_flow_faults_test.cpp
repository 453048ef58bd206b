// The completion flow under the upstream's firewall, a stale front-end version, a silent
// upstream, the stream cap and the shutdown cut.
#include <gtest/gtest.h>

#include "core/flow/completion_flow.hpp"
#include "flow_test_support.hpp"

namespace zai {
namespace {

using namespace std::chrono_literals;
using namespace zai::testing;

config one_block_opens() {
  config cfg = test_config(1);
  cfg.waf_blocks_to_open = 1;
  return cfg;
}

struct breaker_test : flow_test {
  breaker_test() : flow_test(one_block_opens()) {}
};

// The WAF breaker: a block page answers 503 without its HTML and opens the breaker; until the
// cool-down ends no request is fetched; then one probe goes, and its success closes it.
TEST_F(breaker_test, a_waf_block_opens_the_breaker_until_a_probe_passes) {
  auto blocked = start(false);
  ASSERT_EQ(blocked->next(at(t0)), action::fetch);
  ASSERT_EQ(blocked->on_response(405, "text/html", "", block_page, at(t0)), action::respond);
  EXPECT_EQ(blocked->response().status, 503);
  EXPECT_NE(blocked->response().body.find("upstream_blocked"), std::string::npos);
  EXPECT_EQ(blocked->response().body.find('<'), std::string::npos);
  EXPECT_EQ(header(blocked->response(), "Retry-After"), "10");
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::open);
  EXPECT_EQ(leases(), 0u);

  // During the cool-down (10 s by default) the upstream is not called at all.
  auto refused = start(false, t0 + 5'000);
  ASSERT_EQ(refused->next(at(t0 + 5'000)), action::respond);
  EXPECT_EQ(refused->response().status, 503);
  EXPECT_EQ(header(refused->response(), "Retry-After"), "5");

  // After it, one request probes; another is refused until the probe's verdict, which is its
  // answer judged at the first text (a 200 can still carry an error frame).
  const std::int64_t later = t0 + 10'001;
  auto probe = start(true, later);
  ASSERT_EQ(probe->next(at(later)), action::fetch);
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::probing);
  auto during_probe = start(false, later);
  ASSERT_EQ(during_probe->next(at(later)), action::respond);
  EXPECT_EQ(during_probe->response().status, 503);
  ASSERT_EQ(probe->on_response(200, "text/event-stream", "", "", at(later)), action::read);
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::probing);
  ASSERT_EQ(feed(*probe, testing::read_sample(1), later), action::end_stream);
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::closed);
  EXPECT_EQ(start(false, later)->next(at(later)), action::fetch);
}

TEST_F(breaker_test, a_blocked_probe_doubles_the_cool_down) {
  auto first = start(false);
  ASSERT_EQ(first->next(at(t0)), action::fetch);
  ASSERT_EQ(first->on_response(405, "text/html", "", block_page, at(t0)), action::respond);
  EXPECT_EQ(g.breaker().cooldown(), 10s);
  const std::int64_t later = t0 + 10'001;
  auto probe = start(false, later);
  ASSERT_EQ(probe->next(at(later)), action::fetch);
  ASSERT_EQ(probe->on_response(405, "text/html", "", block_page, at(later)), action::respond);
  EXPECT_EQ(g.breaker().cooldown(), 20s);
  // 10 s on, the old cool-down would have ended; the doubled one has not.
  auto still_refused = start(false, later + 10'001);
  EXPECT_EQ(still_refused->next(at(later + 10'001)), action::respond);
  EXPECT_EQ(still_refused->response().status, 503);
}

// One block page is no evidence that the proxy's address is blocked: a content rule can block
// one prompt. The breaker opens only after WAF_BLOCKS_TO_OPEN (3) blocks of different requests.
TEST_F(flow_test, one_block_page_answers_its_request_and_stops_no_one_else) {
  auto blocked = start(false);
  ASSERT_EQ(blocked->next(at(t0)), action::fetch);
  ASSERT_EQ(blocked->on_response(405, "text/html", "", block_page, at(t0)), action::respond);
  EXPECT_EQ(blocked->response().status, 503);
  EXPECT_NE(blocked->response().body.find("upstream_blocked"), std::string::npos);
  EXPECT_FALSE(header(blocked->response(), "Retry-After").empty());
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::closed);
  EXPECT_EQ(start(false)->next(at(t0)), action::fetch);

  for (int i = 0; i < 2; ++i) {
    auto another = start(false);
    ASSERT_EQ(another->next(at(t0)), action::fetch);
    ASSERT_EQ(another->on_response(405, "text/html", "", block_page, at(t0)), action::respond);
  }
  EXPECT_EQ(g.breaker().current(), waf_breaker::state::open);
}

// Since prod-fe-1.1.93 a stale front-end version is answered with the block page, so a blocked
// request scrapes the version: a new one means one invisible retry with it.
struct scraping_test : flow_test {
  static config scraping() {
    config cfg = test_config(1);
    cfg.zai_fe_version.clear();
    return cfg;
  }
  scraping_test() : flow_test(scraping()) {}
};

TEST_F(scraping_test, a_block_with_a_new_front_end_version_is_retried_with_it) {
  EXPECT_EQ(g.fe_version(), "prod-fe-1.1.98");
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(405, "text/html", "", block_page, at(t0)), action::refresh_version);
  EXPECT_EQ(g.upstream_url(c->upstream()), "http://127.0.0.1:8089/");
  ASSERT_EQ(c->on_front_page(200, "<script src=\"/frontend/prod-fe-1.1.99/a.js\">", at(t0)),
            action::fetch);
  EXPECT_EQ(g.fe_version(), "prod-fe-1.1.99");
  bool sent = false;
  for (const auto& [name, value] : c->upstream().headers) {
    if (name == "X-FE-Version") sent = value == "prod-fe-1.1.99";
  }
  EXPECT_TRUE(sent);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  EXPECT_EQ(feed(*c, testing::read_sample(1)), action::respond);
  EXPECT_EQ(c->response().status, 200);
}

TEST_F(scraping_test, a_block_with_the_same_version_is_a_503_without_html) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(405, "text/html", "", block_page, at(t0)), action::refresh_version);
  ASSERT_EQ(c->on_front_page(200, "<script src=\"/frontend/prod-fe-1.1.98/a.js\">", at(t0)),
            action::respond);
  EXPECT_EQ(c->response().status, 503);
  EXPECT_EQ(c->response().body.find('<'), std::string::npos);
  EXPECT_FALSE(header(c->response(), "Retry-After").empty());
}

TEST_F(scraping_test, a_426_waits_for_the_new_version_before_its_retry) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(426, "application/json", "", "{}", at(t0)), action::refresh_version);
  ASSERT_EQ(c->on_front_page(0, "", at(t0)), action::fetch);  // no page: retried all the same
}

// A streamed answer whose upstream says nothing for SSE_KEEPALIVE_MS commits its head with a
// keep-alive, so the client sees bytes; a failure after that is an error event in the stream.
TEST_F(flow_test, a_silent_upstream_commits_the_head_and_a_later_error_is_an_event) {
  auto c = start(true);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_quiet(at(t0 + 15'000)), action::stream_start);
  EXPECT_EQ(c->bytes(), ": keep-alive\n\n");
  EXPECT_TRUE(c->head_committed());
  ASSERT_EQ(c->on_quiet(at(t0 + 30'000)), action::write);
  EXPECT_EQ(c->bytes(), ": keep-alive\n\n");
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0 + 31'000)), action::read);
  ASSERT_EQ(feed(*c, testing::read_sample(9)), action::end_stream);
  EXPECT_NE(written.find("data: {\"error\":"), std::string::npos);
  EXPECT_NE(written.find("model_requires_login"), std::string::npos);
  EXPECT_EQ(written.find("[DONE]"), std::string::npos);
}

TEST_F(flow_test, a_silent_upstream_then_an_answer_streams_on_after_the_keep_alive) {
  auto c = start(true);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  ASSERT_EQ(c->on_quiet(at(t0 + 15'000)), action::stream_start);
  ASSERT_EQ(feed(*c, testing::read_sample(1)), action::end_stream);
  EXPECT_TRUE(written.ends_with("data: [DONE]\n\n"));
}

TEST_F(flow_test, a_non_streamed_request_has_nothing_to_keep_alive) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  EXPECT_EQ(c->on_quiet(at(t0 + 15'000)), action::none);
}

TEST_F(flow_test, the_shutdown_cut_ends_a_stream_with_an_error_event) {
  auto c = start(true);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  // The first text goes out; the rest of the answer never comes.
  const std::string sample = testing::read_sample(1);
  action a = action::read;
  for (std::size_t pos = 0; a == action::read && pos < sample.size(); pos += 7) {
    c->feed(std::string_view(sample).substr(pos, 7));
    a = c->next(at(t0));
  }
  ASSERT_EQ(a, action::stream_start);
  ASSERT_EQ(c->next(at(t0)), action::read);
  c->cut();
  ASSERT_EQ(c->on_end(false, at(t0)), action::end_stream);
  EXPECT_NE(c->bytes().find("server_shutting_down"), std::string_view::npos);
  EXPECT_EQ(leases(), 0u);
}

TEST_F(flow_test, the_shutdown_cut_answers_a_waiting_request_503) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  c->cut();
  ASSERT_EQ(c->on_failure(false, at(t0)), action::respond);
  EXPECT_EQ(c->response().status, 503);
  EXPECT_NE(c->response().body.find("server_shutting_down"), std::string::npos);
}

TEST(completion_flow_gateway, completions_over_max_concurrent_streams_get_429_until_one_ends) {
  config cfg = test_config(1);
  cfg.max_concurrent_streams = 2;
  gateway g(cfg, 7, native::hmac_sha256);
  const auto open = [&] {
    return g.open({"POST", "/v1/chat/completions", "Bearer k", ""},
                  R"({"model":"glm-4.7","messages":[{"role":"user","content":"x"}]})", false,
                  at(t0));
  };
  auto first = open();
  auto second = open();
  ASSERT_TRUE(first.flow && second.flow);
  auto third = open();
  ASSERT_TRUE(third.response);
  EXPECT_EQ(third.response->status, 429);
  EXPECT_NE(third.response->body.find("too_many_concurrent_requests"), std::string::npos);
  EXPECT_FALSE(header(*third.response, "Retry-After").empty());
  first.flow.reset();
  EXPECT_TRUE(open().flow);
}

TEST(completion_flow_gateway, the_front_door_and_validation_answer_before_any_completion) {
  gateway g(test_config(1), 7, native::hmac_sha256);
  const auto status = [&](std::string_view method, std::string_view target,
                          std::string_view auth, std::string_view body, bool too_large = false) {
    auto opened = g.open({method, target, auth, ""}, body, too_large, at(t0));
    return opened.response ? opened.response->status : 0;
  };
  EXPECT_EQ(status("GET", "/v1/models", "", ""), 200);
  EXPECT_EQ(status("POST", "/v1/chat/completions", "", "{}"), 401);
  EXPECT_EQ(status("POST", "/v1/chat/completions", "Bearer k",
                   R"({"model":"no-such-model","messages":[{"role":"user","content":"x"}]})"),
            404);
  EXPECT_EQ(status("POST", "/v1/chat/completions", "Bearer k", "", true), 413);
  EXPECT_EQ(status("POST", "/v1/chat/completions", "Bearer k", "{"), 400);
}

}  // namespace
}  // namespace zai
