#include "core/pool/waf_breaker.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

using namespace std::chrono_literals;
using time_point = waf_breaker::time_point;

const time_point t0{};

// Each call names a new client request, as the completion flow's serials do.
std::uint64_t serial = 0;

// One block opens it, so the tests below follow the cool-down alone.
waf_breaker make_breaker() { return waf_breaker({10s, 40s, 1, 60s}); }

TEST(waf_breaker, admits_everything_while_closed) {
  waf_breaker b = make_breaker();
  for (int i = 0; i < 3; ++i) {
    const auto a = b.admit(t0 + i * 1s);
    EXPECT_TRUE(a.allowed);
    EXPECT_FALSE(a.probe);
  }
  EXPECT_EQ(b.current(), waf_breaker::state::closed);
  EXPECT_EQ(b.retry_after(t0), 0s);
}

TEST(waf_breaker, a_block_refuses_requests_until_the_cooldown_ends) {
  waf_breaker b = make_breaker();
  b.blocked(t0, false, ++serial);
  EXPECT_EQ(b.current(), waf_breaker::state::open);
  const auto early = b.admit(t0 + 2500ms);
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(early.retry_after, 8s);  // 7.5 s left, rounded up
  EXPECT_EQ(b.admit(t0 + 9999ms).retry_after, 1s);
  EXPECT_EQ(b.remaining(t0 + 9999ms), 1ms);
  EXPECT_EQ(b.remaining(t0 + 10s), 0ms);
  EXPECT_EQ(b.blocks(), 1u);
}

TEST(waf_breaker, one_probe_goes_when_the_cooldown_ends_and_others_wait_for_it) {
  waf_breaker b = make_breaker();
  b.blocked(t0, false, ++serial);
  const auto probe = b.admit(t0 + 10s);
  EXPECT_TRUE(probe.allowed);
  EXPECT_TRUE(probe.probe);
  EXPECT_EQ(b.current(), waf_breaker::state::probing);
  const auto other = b.admit(t0 + 10s);
  EXPECT_FALSE(other.allowed);
  EXPECT_EQ(other.retry_after, 1s);
}

TEST(waf_breaker, a_blocked_probe_doubles_the_cooldown_up_to_the_ceiling) {
  waf_breaker b = make_breaker();
  b.blocked(t0, false, ++serial);
  time_point now = t0;
  for (auto expected : {20s, 40s, 40s}) {
    now += b.cooldown();
    ASSERT_TRUE(b.admit(now).probe);
    b.blocked(now, true, ++serial);
    EXPECT_EQ(b.cooldown(), expected);
    EXPECT_EQ(b.admit(now).retry_after, expected);
  }
}

TEST(waf_breaker, a_probe_that_passes_closes_the_breaker_and_resets_the_cooldown) {
  waf_breaker b = make_breaker();
  b.blocked(t0, false, ++serial);
  ASSERT_TRUE(b.admit(t0 + 10s).probe);
  b.blocked(t0 + 10s, true, ++serial);  // cool-down now 20 s
  ASSERT_TRUE(b.admit(t0 + 30s).probe);
  b.passed(true);
  EXPECT_EQ(b.current(), waf_breaker::state::closed);
  EXPECT_EQ(b.cooldown(), 10s);
  EXPECT_TRUE(b.admit(t0 + 30s).allowed);
  b.blocked(t0 + 31s, false, ++serial);  // the next block starts again from the base cool-down
  EXPECT_EQ(b.admit(t0 + 31s).retry_after, 10s);
}

TEST(waf_breaker, answers_to_requests_sent_before_the_block_change_nothing) {
  waf_breaker b = make_breaker();
  b.blocked(t0, false, ++serial);
  b.blocked(t0 + 5s, false, ++serial);  // a second in-flight request blocked too: no doubling, no extension
  EXPECT_EQ(b.cooldown(), 10s);
  EXPECT_EQ(b.admit(t0 + 5s).retry_after, 5s);
  b.passed(false);  // an older request that got through says nothing about now
  EXPECT_EQ(b.current(), waf_breaker::state::open);
  ASSERT_TRUE(b.admit(t0 + 10s).probe);
  b.passed(false);
  b.blocked(t0 + 11s, false, ++serial);
  EXPECT_EQ(b.current(), waf_breaker::state::probing);  // still the probe's to decide
}

TEST(waf_breaker, an_abandoned_probe_lets_the_next_request_probe_at_once) {
  waf_breaker b = make_breaker();
  b.blocked(t0, false, ++serial);
  ASSERT_TRUE(b.admit(t0 + 10s).probe);
  b.abandoned(t0 + 11s, true);
  EXPECT_EQ(b.current(), waf_breaker::state::open);
  const auto next = b.admit(t0 + 11s);
  EXPECT_TRUE(next.allowed);
  EXPECT_TRUE(next.probe);
  EXPECT_EQ(b.cooldown(), 10s);
}

TEST(waf_breaker, names_its_states_for_health) {
  EXPECT_EQ(to_string(waf_breaker::state::closed), "closed");
  EXPECT_EQ(to_string(waf_breaker::state::open), "open");
  EXPECT_EQ(to_string(waf_breaker::state::probing), "probing");
}

TEST(waf_breaker, opens_only_after_blocks_in_a_row_from_different_requests) {
  waf_breaker b({10s, 40s, 3, 60s});
  b.blocked(t0, false, 101);
  b.blocked(t0 + 1s, false, 101);  // the same request's retry: still one request's evidence
  b.blocked(t0 + 2s, false, 102);
  EXPECT_EQ(b.current(), waf_breaker::state::closed);
  EXPECT_TRUE(b.admit(t0 + 2s).allowed);
  b.blocked(t0 + 3s, false, 103);
  EXPECT_EQ(b.current(), waf_breaker::state::open);
  EXPECT_EQ(b.blocks(), 4u);
}

TEST(waf_breaker, any_other_answer_breaks_the_run_of_blocks) {
  waf_breaker b({10s, 40s, 3, 60s});
  b.blocked(t0, false, 1);
  b.blocked(t0, false, 2);
  b.passed(false);
  b.blocked(t0, false, 3);
  b.blocked(t0, false, 4);
  EXPECT_EQ(b.current(), waf_breaker::state::closed);
  b.blocked(t0, false, 5);
  EXPECT_EQ(b.current(), waf_breaker::state::open);
}

TEST(waf_breaker, blocks_older_than_the_window_no_longer_count) {
  waf_breaker b({10s, 40s, 3, 60s});
  b.blocked(t0, false, 1);
  b.blocked(t0 + 30s, false, 2);
  b.blocked(t0 + 61s, false, 3);  // the run began 61 s ago: it starts again here
  EXPECT_EQ(b.current(), waf_breaker::state::closed);
  b.blocked(t0 + 62s, false, 4);
  EXPECT_EQ(b.current(), waf_breaker::state::closed);
  b.blocked(t0 + 63s, false, 5);
  EXPECT_EQ(b.current(), waf_breaker::state::open);
}

}  // namespace
}  // namespace zai
