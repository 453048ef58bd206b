// The completion flow's decisions, driven the way both hosts drive it (the native server's
// coroutine and the Worker's JavaScript), with OpenSSL's HMAC and a hand-moved clock.
#include "core/flow/completion_flow.hpp"

#include <gtest/gtest.h>

#include "flow_test_support.hpp"

namespace zai {
namespace {

using namespace std::chrono_literals;
using namespace zai::testing;

TEST_F(flow_test, a_non_stream_completion_signs_one_request_and_answers_once) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  EXPECT_TRUE(g.upstream_url(c->upstream())
                  .starts_with("http://127.0.0.1:8089/api/v2/chat/completions?"));
  EXPECT_NE(c->upstream().body.find("\"signature_prompt\":\"Hello\""), std::string::npos);
  EXPECT_EQ(leases(), 1u);

  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  ASSERT_EQ(feed(*c, testing::read_sample(1)), action::respond);
  EXPECT_EQ(c->response().status, 200);
  EXPECT_NE(c->response().body.find("\"object\":\"chat.completion\""), std::string::npos);
  EXPECT_NE(c->response().body.find("Hello! How can I help you today?"), std::string::npos);
  EXPECT_EQ(leases(), 0u);
}

TEST_F(flow_test, a_stream_starts_once_text_is_certain_and_ends_with_done) {
  auto c = start(true);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  EXPECT_FALSE(c->head_committed());
  ASSERT_EQ(feed(*c, testing::read_sample(1)), action::end_stream);
  EXPECT_TRUE(written.starts_with("data: {"));
  EXPECT_NE(written.find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_TRUE(written.ends_with("data: [DONE]\n\n"));
  EXPECT_EQ(header({200, c->stream_head(), ""}, "Content-Type"),
            "text/event-stream; charset=utf-8");
  EXPECT_TRUE(c->upstream_reusable());
  EXPECT_EQ(leases(), 0u);
}

TEST_F(flow_test, an_answer_that_arrives_at_once_is_one_head_and_one_end) {
  auto c = start(true);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  c->feed(testing::read_sample(1));
  ASSERT_EQ(c->next(at(t0)), action::stream_start);
  EXPECT_NE(c->bytes().find("data: [DONE]"), std::string_view::npos);
  ASSERT_EQ(c->next(at(t0)), action::end_stream);
  EXPECT_TRUE(c->bytes().empty());
}

TEST_F(flow_test, an_error_frame_before_any_text_becomes_its_http_status) {
  auto c = start(true);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  ASSERT_EQ(feed(*c, testing::read_sample(9)), action::respond);
  EXPECT_TRUE(written.empty());
  EXPECT_EQ(c->response().status, 403);
  EXPECT_NE(c->response().body.find("model_requires_login"), std::string::npos);
}

TEST_F(flow_test, transport_failures_answer_504_without_a_retry) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_failure(true, at(t0)), action::respond);
  EXPECT_EQ(c->response().status, 504);
  EXPECT_EQ(leases(), 0u);
}

TEST(completion_flow_pool, an_empty_pool_is_a_503_with_retry_after_and_no_upstream_request) {
  gateway g(test_config(0), 7, native::hmac_sha256);
  auto opened = g.open({"POST", "/v1/chat/completions", "Bearer k", ""},
                       R"({"model":"glm-4.7","messages":[{"role":"user","content":"x"}]})", false,
                       at(t0));
  ASSERT_TRUE(opened.flow);
  ASSERT_EQ(opened.flow->next(at(t0)), action::respond);
  EXPECT_EQ(opened.flow->response().status, 503);
  EXPECT_NE(opened.flow->response().body.find("no_token_available"), std::string::npos);
  EXPECT_FALSE(header(opened.flow->response(), "Retry-After").empty());
}

TEST(completion_flow_pool, the_first_request_waits_for_the_first_mint) {
  gateway g(test_config(1), 7, native::hmac_sha256);
  auto opened = g.open({"POST", "/v1/chat/completions", "Bearer k", ""},
                       R"({"model":"glm-4.7","messages":[{"role":"user","content":"x"}]})", false,
                       at(t0));
  ASSERT_EQ(opened.flow->next(at(t0)), action::wait_token);  // the mint is due: worth a wait
  EXPECT_EQ(opened.flow->wait(), std::chrono::milliseconds(mint_wait));
  EXPECT_EQ(upkeep_all(g, t0 + 20), 1);
  EXPECT_EQ(opened.flow->next(at(t0 + 20)), action::fetch);
}

// The upstream can invalidate every guest session at once (after a deploy, say). A 401 then
// means the other pooled tokens are as dead: the retry waits for the fresh mint instead of
// taking another token minted before the rejection.
struct invalidated_pool_test : flow_test {
  invalidated_pool_test() : flow_test(test_config(3)) {}
};

TEST_F(invalidated_pool_test, a_401_retries_only_on_a_token_minted_since) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(401, "application/json", "", "{}", at(t0)), action::wait_token);
  EXPECT_EQ(g.pool().stats(at(t0).steady).ready, 2u);  // the stale ones, left for others
  EXPECT_EQ(upkeep_all(g, t0 + 5), 1);
  ASSERT_EQ(c->next(at(t0 + 5)), action::fetch);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0 + 5)), action::read);
  EXPECT_EQ(feed(*c, testing::read_sample(1)), action::respond);
  EXPECT_EQ(c->response().status, 200);
}

TEST_F(invalidated_pool_test, only_a_fresh_token_rejected_too_is_a_502) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(401, "application/json", "", "{}", at(t0)), action::wait_token);
  upkeep_all(g, t0 + 5);
  ASSERT_EQ(c->next(at(t0 + 5)), action::fetch);
  ASSERT_EQ(c->on_response(401, "application/json", "", "{}", at(t0 + 5)), action::respond);
  EXPECT_EQ(c->response().status, 502);
}

TEST_F(invalidated_pool_test, a_retry_whose_mint_never_comes_is_a_503_after_the_wait) {
  auto c = start(false);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(401, "application/json", "", "{}", at(t0)), action::wait_token);
  const std::int64_t later = t0 + 10'001;
  ASSERT_EQ(c->next(at(later)), action::respond);
  EXPECT_EQ(c->response().status, 503);
  EXPECT_NE(c->response().body.find("no_token_available"), std::string::npos);
}

// The native server runs flows on several event loops, with the gateway behind a std::mutex:
// every shared step takes the lock exactly once at a time, also the store's (Responses API).
struct locked_gateway_test : flow_test {
  locked_gateway_test() : flow_test(test_config(1), &lock) {}
  static inline checking_lock lock;
};

TEST_F(locked_gateway_test, every_gateway_call_of_a_completion_takes_the_lock_once_at_a_time) {
  const int before = lock.taken;
  auto c = start(true);
  ASSERT_EQ(c->next(at(t0)), action::fetch);
  ASSERT_EQ(c->on_response(200, "text/event-stream", "", "", at(t0)), action::read);
  ASSERT_EQ(feed(*c, testing::read_sample(1)), action::end_stream);
  c.reset();
  EXPECT_FALSE(lock.held);
  EXPECT_GT(lock.taken, before);
  EXPECT_EQ(leases(), 0u);
  EXPECT_EQ(g.completions_in_flight(), 0u);
}

TEST_F(locked_gateway_test, a_stored_response_is_kept_and_continued_under_the_lock) {
  for (const bool stream : {false, true}) {
    auto opened = g.open({"POST", "/v1/responses", "Bearer k", ""},
                         R"({"model":"glm-4.7","input":"Hello","stream":)" +
                             std::string(stream ? "true" : "false") + "}",
                         false, at(t0));
    ASSERT_TRUE(opened.flow);
    auto& c = *opened.flow;
    ASSERT_EQ(c.next(at(t0)), action::fetch);
    ASSERT_EQ(c.on_response(200, "text/event-stream", "", "", at(t0)), action::read);
    const action last = feed(c, testing::read_sample(1));
    ASSERT_EQ(last, stream ? action::end_stream : action::respond);
    EXPECT_FALSE(lock.held);
  }
  const std::string id = R"("id":"resp_)";
  const auto at_id = written.find(id);
  ASSERT_NE(at_id, std::string::npos);
  const std::string stored = written.substr(at_id + 6, written.find('"', at_id + 6) - at_id - 6);
  auto continued = g.open({"POST", "/v1/responses", "Bearer k", ""},
                          R"({"model":"glm-4.7","input":"More","previous_response_id":")" +
                              stored + "\"}",
                          false, at(t0));
  EXPECT_TRUE(continued.flow) << (continued.response ? continued.response->body : "");
  auto fetched = g.open({"GET", "/v1/responses/" + stored, "Bearer k", ""}, "", false, at(t0));
  ASSERT_TRUE(fetched.response);
  EXPECT_EQ(fetched.response->status, 200);
  EXPECT_FALSE(lock.held);
}

}  // namespace
}  // namespace zai
