#include "core/pool/token_pool.hpp"

#include <gtest/gtest.h>

#include <type_traits>

namespace zai {
namespace {

using namespace std::chrono_literals;
using time_point = token_pool::time_point;
using ids = std::vector<std::size_t>;

const time_point t0{};  // the injected clock starts here; tests add durations to it by hand

guest_token token_named(const std::string& name) { return {"jwt." + name, "uid-" + name, name}; }

token_pool_options sized(std::size_t size) {
  token_pool_options options;
  options.size = size;
  return options;
}

// Mints every due slot successfully, naming the token after the slot and a round tag.
void mint_due(token_pool& pool, time_point now, const std::string& round = "a") {
  for (const std::size_t slot : pool.take_mint_jobs(now)) {
    ASSERT_TRUE(pool.mint_succeeded(slot, token_named(round + std::to_string(slot)), now));
  }
}

token_pool ready_pool(token_pool_options options) {
  token_pool pool(options);
  mint_due(pool, t0);
  return pool;
}

std::size_t acquire_slot(token_pool& pool, time_point now) {
  const auto lease = pool.acquire(now);
  EXPECT_TRUE(lease.has_value());
  return lease ? lease->slot : std::size_t(-1);
}

TEST(token_pool, start_up_asks_to_mint_every_slot_once) {
  token_pool pool(sized(3));
  EXPECT_EQ(pool.stats(t0).empty, 3u);
  EXPECT_EQ(pool.take_mint_jobs(t0), (ids{0, 1, 2}));
  EXPECT_TRUE(pool.take_mint_jobs(t0 + 1s).empty());
  EXPECT_EQ(pool.stats(t0).minting, 3u);
  EXPECT_FALSE(pool.acquire(t0).has_value());
  EXPECT_FALSE(pool.next_deadline(t0).has_value());  // nothing to do but wait for reports

  ASSERT_TRUE(pool.mint_succeeded(1, token_named("one"), t0 + 1s));
  const auto lease = pool.acquire(t0 + 1s);
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->slot, 1u);
  EXPECT_EQ(lease->token.jwt, "jwt.one");
  EXPECT_EQ(lease->token.user_id, "uid-one");
  const auto stats = pool.stats(t0 + 1s);
  EXPECT_EQ(stats.ready, 1u);
  EXPECT_EQ(stats.minting, 2u);
  EXPECT_EQ(stats.busy, 1u);
}

TEST(token_pool, pool_of_size_zero_never_has_a_token) {
  token_pool pool(sized(0));
  EXPECT_TRUE(pool.take_mint_jobs(t0).empty());
  EXPECT_FALSE(pool.acquire(t0).has_value());
  EXPECT_FALSE(pool.next_deadline(t0).has_value());
  EXPECT_EQ(pool.stats(t0).total, 0u);
  EXPECT_EQ(pool.retry_after_hint(t0), token_pool::retry_after_without_slots);
  EXPECT_FALSE(pool.mint_succeeded(0, token_named("x"), t0));
}

TEST(token_pool, acquire_rotates_through_idle_tokens_least_recently_used_first) {
  token_pool pool = ready_pool(sized(3));
  ids order;
  for (int i = 0; i < 7; ++i) {
    const auto lease = pool.acquire(t0 + std::chrono::seconds(i));
    ASSERT_TRUE(lease.has_value());
    order.push_back(lease->slot);
    pool.release(*lease, lease_outcome::ok, t0 + std::chrono::seconds(i));
  }
  EXPECT_EQ(order, (ids{0, 1, 2, 0, 1, 2, 0}));
}

TEST(token_pool, idle_token_beats_busy_one_even_if_used_more_recently) {
  token_pool pool = ready_pool(sized(2));
  const auto held = pool.acquire(t0 + 1s);  // slot 0, stays busy
  const auto used = pool.acquire(t0 + 2s);  // slot 1, released: idle but used more recently
  ASSERT_TRUE(held && used);
  pool.release(*used, lease_outcome::ok, t0 + 3s);
  EXPECT_EQ(acquire_slot(pool, t0 + 4s), 1u);
}

TEST(token_pool, all_busy_picks_fewest_in_flight_then_least_recently_used) {
  token_pool pool = ready_pool(sized(2));
  EXPECT_EQ(acquire_slot(pool, t0 + 1s), 0u);
  EXPECT_EQ(acquire_slot(pool, t0 + 2s), 1u);
  EXPECT_EQ(acquire_slot(pool, t0 + 3s), 0u);  // both have one lease: 0 is least recently used
  EXPECT_EQ(acquire_slot(pool, t0 + 4s), 1u);  // 1 has fewer leases
  EXPECT_EQ(acquire_slot(pool, t0 + 5s), 0u);
  EXPECT_EQ(pool.stats(t0 + 5s).in_flight, 5u);
  EXPECT_EQ(pool.stats(t0 + 5s).busy, 2u);
}

TEST(token_pool, in_flight_cap_skips_saturated_tokens) {
  token_pool_options options = sized(2);
  options.max_inflight = 1;
  token_pool pool = ready_pool(options);
  const auto a = pool.acquire(t0);
  const auto b = pool.acquire(t0);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->slot, b->slot);
  EXPECT_FALSE(pool.acquire(t0).has_value());
  EXPECT_EQ(pool.retry_after_hint(t0), 1s);

  pool.release(*b, lease_outcome::ok, t0 + 1s);
  EXPECT_EQ(pool.retry_after_hint(t0 + 1s), 0s);
  EXPECT_EQ(acquire_slot(pool, t0 + 1s), b->slot);
}

TEST(token_pool, failed_mint_retries_with_doubling_backoff_up_to_the_cap) {
  token_pool pool(sized(1));
  time_point now = t0;
  ASSERT_EQ(pool.take_mint_jobs(now), ids{0});
  for (const auto expected : {1s, 2s, 4s, 8s, 16s, 32s, 60s, 60s}) {
    ASSERT_TRUE(pool.mint_failed(0, now));
    EXPECT_EQ(pool.state(0, now), slot_state::empty);
    EXPECT_EQ(pool.next_deadline(now), now + expected);
    EXPECT_EQ(pool.retry_after_hint(now), expected);
    EXPECT_TRUE(pool.take_mint_jobs(now + expected - 1ms).empty());
    now += expected;
    ASSERT_EQ(pool.take_mint_jobs(now), ids{0});
  }
  ASSERT_TRUE(pool.mint_succeeded(0, token_named("late"), now));
  EXPECT_EQ(pool.acquire(now)->token.name, "late");

  // Success reset the schedule: after the next token dies, the first retry is 1 s away again.
  pool.release(*pool.acquire(now), lease_outcome::unauthorized, now);
  ASSERT_EQ(pool.take_mint_jobs(now), ids{0});
  ASSERT_TRUE(pool.mint_failed(0, now));
  EXPECT_EQ(pool.next_deadline(now), now + 1s);
}

TEST(token_pool, next_deadline_is_the_earliest_timer_across_slots) {
  token_pool_options options = sized(3);
  options.max_age = 10min;
  options.max_failures = 1;
  token_pool pool = ready_pool(options);
  EXPECT_EQ(pool.next_deadline(t0), t0 + 10min);  // the first age-out

  pool.release(*pool.acquire(t0), lease_outcome::rate_limited, t0, 30s);
  EXPECT_EQ(pool.next_deadline(t0), t0 + 30s);
  pool.release(*pool.acquire(t0), lease_outcome::failure, t0);
  EXPECT_EQ(pool.stats(t0).benched, 1u);
  EXPECT_EQ(pool.next_deadline(t0), t0 + 30s);
  EXPECT_EQ(pool.next_deadline(t0 + 31s), t0 + 5min);  // the bench ends before the age-out
  EXPECT_EQ(pool.next_deadline(t0 + 6min), t0 + 6min);  // overdue: act now, never in the past
}

TEST(token_pool, concurrent_unauthorized_leases_cause_exactly_one_mint) {
  token_pool pool = ready_pool(sized(1));
  const auto a = pool.acquire(t0);
  const auto b = pool.acquire(t0);
  const auto c = pool.acquire(t0);
  ASSERT_TRUE(a && b && c);

  pool.release(*a, lease_outcome::unauthorized, t0 + 1s);
  pool.release(*b, lease_outcome::unauthorized, t0 + 1s);  // same token: already being replaced
  EXPECT_EQ(pool.take_mint_jobs(t0 + 1s), ids{0});
  pool.release(*c, lease_outcome::unauthorized, t0 + 2s);
  EXPECT_TRUE(pool.take_mint_jobs(t0 + 2s).empty());
  EXPECT_FALSE(pool.acquire(t0 + 2s).has_value());

  ASSERT_TRUE(pool.mint_succeeded(0, token_named("fresh"), t0 + 3s));
  const auto d = pool.acquire(t0 + 3s);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->token.name, "fresh");
  EXPECT_NE(d->generation, a->generation);
  EXPECT_EQ(pool.stats(t0 + 3s).in_flight, 1u);
  pool.release(*d, lease_outcome::ok, t0 + 4s);
  EXPECT_EQ(pool.stats(t0 + 4s).in_flight, 0u);
}

TEST(token_pool, after_a_401_a_retry_can_ask_for_a_token_minted_since) {
  // The upstream can invalidate every guest session at once: the other pooled tokens are then
  // as dead as the rejected one, so the retry must wait for a fresh mint, not take one of them.
  token_pool pool = ready_pool(sized(3));
  const auto rejected = pool.acquire(t0);
  ASSERT_TRUE(rejected);
  pool.release(*rejected, lease_outcome::unauthorized, t0 + 1s);
  const std::uint64_t since = pool.rejections();
  EXPECT_EQ(since, 1u);
  EXPECT_TRUE(pool.acquire(t0 + 1s).has_value());  // an ordinary request may still try one
  EXPECT_FALSE(pool.acquire(t0 + 1s, since).has_value());
  EXPECT_EQ(pool.take_mint_jobs(t0 + 1s), ids{rejected->slot});
  ASSERT_TRUE(pool.mint_succeeded(rejected->slot, token_named("fresh"), t0 + 2s));
  const auto fresh = pool.acquire(t0 + 2s, since);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->token.name, "fresh");
}

TEST(token_pool, stale_lease_released_after_re_mint_leaves_the_new_token_alone) {
  token_pool pool = ready_pool(sized(1));
  const auto first = pool.acquire(t0);
  const auto second = pool.acquire(t0);
  ASSERT_TRUE(first && second);
  pool.release(*first, lease_outcome::unauthorized, t0);
  mint_due(pool, t0 + 1s, "b");
  const auto current = pool.acquire(t0 + 1s);
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(pool.stats(t0 + 1s).in_flight, 2u);  // the old lease is still out

  pool.release(*second, lease_outcome::unauthorized, t0 + 2s);
  EXPECT_TRUE(pool.take_mint_jobs(t0 + 2s).empty());
  EXPECT_EQ(pool.state(0, t0 + 2s), slot_state::ready);
  const auto stats = pool.stats(t0 + 2s);
  EXPECT_EQ(stats.in_flight, 1u);
  EXPECT_EQ(stats.busy, 1u);  // the new token's own lease is still counted
  pool.release(*current, lease_outcome::ok, t0 + 3s);
  EXPECT_EQ(pool.stats(t0 + 3s).busy, 0u);
}

TEST(token_pool, rate_limited_token_cools_for_retry_after_then_returns) {
  token_pool pool = ready_pool(sized(2));
  const auto lease = pool.acquire(t0);
  ASSERT_TRUE(lease.has_value());
  pool.release(*lease, lease_outcome::rate_limited, t0, 30s);
  EXPECT_EQ(pool.state(lease->slot, t0 + 29s), slot_state::cooling);
  EXPECT_EQ(pool.stats(t0).cooling, 1u);
  // The other token takes every request meanwhile.
  for (int i = 0; i < 3; ++i) EXPECT_NE(acquire_slot(pool, t0 + 1s), lease->slot);

  token_pool single = ready_pool(sized(1));
  single.release(*single.acquire(t0), lease_outcome::rate_limited, t0, 30s);
  EXPECT_FALSE(single.acquire(t0 + 29s).has_value());
  EXPECT_EQ(single.retry_after_hint(t0 + 10s), 20s);
  EXPECT_EQ(single.next_deadline(t0), t0 + 30s);
  EXPECT_EQ(acquire_slot(single, t0 + 30s), 0u);
}

TEST(token_pool, rate_limited_without_retry_after_uses_the_default_cooldown) {
  token_pool_options options = sized(1);
  options.default_cooldown = 7s;
  token_pool pool = ready_pool(options);
  pool.release(*pool.acquire(t0), lease_outcome::rate_limited, t0);
  EXPECT_FALSE(pool.acquire(t0 + 6s).has_value());
  EXPECT_TRUE(pool.acquire(t0 + 7s).has_value());
}

TEST(token_pool, retry_after_is_capped_and_a_later_429_only_extends_the_cooldown) {
  token_pool_options options = sized(1);
  options.max_cooldown = 2min;
  token_pool pool = ready_pool(options);
  const auto a = pool.acquire(t0);
  const auto b = pool.acquire(t0);
  pool.release(*a, lease_outcome::rate_limited, t0, 24h);
  EXPECT_EQ(pool.next_deadline(t0), t0 + 2min);
  pool.release(*b, lease_outcome::rate_limited, t0, 5s);  // shorter hint: keeps the longer rest
  EXPECT_EQ(pool.next_deadline(t0), t0 + 2min);
  EXPECT_TRUE(pool.acquire(t0 + 2min).has_value());
}

TEST(token_pool, consecutive_failures_bench_the_token_then_it_is_replaced) {
  token_pool pool = ready_pool(sized(1));
  for (int i = 0; i < 2; ++i) pool.release(*pool.acquire(t0), lease_outcome::failure, t0);
  EXPECT_EQ(pool.state(0, t0), slot_state::ready);
  pool.release(*pool.acquire(t0), lease_outcome::failure, t0);
  EXPECT_EQ(pool.state(0, t0), slot_state::benched);
  EXPECT_EQ(pool.stats(t0).benched, 1u);
  EXPECT_FALSE(pool.acquire(t0).has_value());
  EXPECT_EQ(pool.retry_after_hint(t0), 300s);
  EXPECT_EQ(pool.next_deadline(t0), t0 + 5min);
  EXPECT_TRUE(pool.take_mint_jobs(t0 + 5min - 1s).empty());

  mint_due(pool, t0 + 5min, "b");
  const auto lease = pool.acquire(t0 + 5min);
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->token.name, "b0");
}

TEST(token_pool, ok_resets_the_consecutive_failure_count) {
  token_pool pool = ready_pool(sized(1));
  const auto fail = [&] { pool.release(*pool.acquire(t0), lease_outcome::failure, t0); };
  fail();
  fail();
  pool.release(*pool.acquire(t0), lease_outcome::ok, t0);
  fail();
  fail();
  EXPECT_EQ(pool.state(0, t0), slot_state::ready);
  fail();
  EXPECT_EQ(pool.state(0, t0), slot_state::benched);
}

TEST(token_pool, aged_token_serves_until_its_replacement_is_ready) {
  token_pool_options options = sized(1);
  options.max_age = 10min;
  token_pool pool = ready_pool(options);
  EXPECT_TRUE(pool.take_mint_jobs(t0 + 10min - 1s).empty());
  EXPECT_EQ(pool.take_mint_jobs(t0 + 10min), ids{0});
  EXPECT_TRUE(pool.take_mint_jobs(t0 + 10min).empty());  // one replacement at a time
  EXPECT_FALSE(pool.next_deadline(t0 + 10min).has_value());

  // A failed replacement backs off; the old token keeps serving the whole time.
  ASSERT_TRUE(pool.mint_failed(0, t0 + 10min));
  EXPECT_EQ(pool.next_deadline(t0 + 10min), t0 + 10min + 1s);
  const auto old_lease = pool.acquire(t0 + 10min);
  ASSERT_TRUE(old_lease.has_value());
  EXPECT_EQ(old_lease->token.name, "a0");
  EXPECT_EQ(pool.stats(t0 + 10min).ready, 1u);

  EXPECT_EQ(pool.take_mint_jobs(t0 + 10min + 1s), ids{0});
  ASSERT_TRUE(pool.mint_succeeded(0, token_named("b0"), t0 + 10min + 2s));
  EXPECT_EQ(pool.acquire(t0 + 10min + 2s)->token.name, "b0");
  // The old token's lease can no longer touch the slot.
  pool.release(*old_lease, lease_outcome::unauthorized, t0 + 10min + 3s);
  EXPECT_EQ(pool.state(0, t0 + 10min + 3s), slot_state::ready);
  EXPECT_EQ(pool.next_deadline(t0 + 10min + 3s), t0 + 20min + 2s);
}

TEST(token_pool, unauthorized_during_replacement_reuses_the_running_mint) {
  token_pool_options options = sized(1);
  options.max_age = 1min;
  token_pool pool = ready_pool(options);
  ASSERT_EQ(pool.take_mint_jobs(t0 + 1min), ids{0});
  pool.release(*pool.acquire(t0 + 1min), lease_outcome::unauthorized, t0 + 1min);
  EXPECT_EQ(pool.state(0, t0 + 1min), slot_state::minting);
  EXPECT_TRUE(pool.take_mint_jobs(t0 + 1min).empty());
  ASSERT_TRUE(pool.mint_succeeded(0, token_named("b0"), t0 + 1min));
  EXPECT_EQ(pool.acquire(t0 + 1min)->token.name, "b0");
}

TEST(token_pool, mint_that_lands_after_its_token_was_benched_is_dropped) {
  token_pool_options options = sized(1);
  options.max_age = 1min;
  token_pool pool = ready_pool(options);
  ASSERT_EQ(pool.take_mint_jobs(t0 + 1min), ids{0});
  const time_point now = t0 + 1min;
  for (int i = 0; i < 3; ++i) pool.release(*pool.acquire(now), lease_outcome::failure, now);
  EXPECT_FALSE(pool.mint_succeeded(0, token_named("late"), t0 + 1min));
  EXPECT_EQ(pool.state(0, t0 + 1min), slot_state::benched);
}

TEST(token_pool, stats_count_every_state_and_carry_no_token_text) {
  static_assert(std::is_trivially_copyable_v<token_pool_stats>);
  static_assert(sizeof(token_pool_stats) == 8 * sizeof(std::size_t), "counts only, no strings");

  token_pool pool(sized(5));
  ASSERT_EQ(pool.take_mint_jobs(t0).size(), 5u);
  pool.mint_succeeded(0, token_named("a0"), t0);
  pool.mint_succeeded(1, token_named("a1"), t0);
  pool.mint_succeeded(2, token_named("a2"), t0);
  pool.mint_failed(3, t0);
  const auto busy = pool.acquire(t0);  // slot 0
  pool.release(*pool.acquire(t0), lease_outcome::rate_limited, t0);  // slot 1
  for (int i = 0; i < 3; ++i) pool.release(*pool.acquire(t0), lease_outcome::failure, t0);  // 2

  const auto s = pool.stats(t0);
  EXPECT_EQ(s.total, 5u);
  EXPECT_EQ(s.ready, 1u);
  EXPECT_EQ(s.busy, 1u);
  EXPECT_EQ(s.cooling, 1u);
  EXPECT_EQ(s.benched, 1u);
  EXPECT_EQ(s.empty, 1u);
  EXPECT_EQ(s.minting, 1u);
  EXPECT_EQ(s.in_flight, 1u);
  pool.release(*busy, lease_outcome::ok, t0);
}

TEST(token_pool, retry_after_hint_points_at_the_soonest_usable_token) {
  token_pool pool(sized(2));
  EXPECT_EQ(pool.retry_after_hint(t0), 1s);  // both mints due now
  ASSERT_EQ(pool.take_mint_jobs(t0).size(), 2u);
  EXPECT_EQ(pool.retry_after_hint(t0), 1s);  // minting: no end time known
  pool.mint_failed(0, t0);
  pool.mint_failed(1, t0);
  EXPECT_EQ(pool.retry_after_hint(t0 + 500ms), 1s);  // both retries due at +1 s
  ASSERT_EQ(pool.take_mint_jobs(t0 + 1s).size(), 2u);
  pool.mint_failed(0, t0 + 1s);  // second failures: next attempts at +3 s
  pool.mint_failed(1, t0 + 1s);
  EXPECT_EQ(pool.retry_after_hint(t0 + 1s), 2s);
  EXPECT_EQ(pool.retry_after_hint(t0 + 1500ms), 2s);  // rounded up, never 0 while unusable
  mint_due(pool, t0 + 3s);
  EXPECT_EQ(pool.retry_after_hint(t0 + 3s), 0s);
}

}  // namespace
}  // namespace zai
