#include "core/pool/token_pool.hpp"

#include <algorithm>
#include <utility>

namespace zai {
namespace {

using time_point = token_pool::time_point;
using duration = token_pool::duration;

// 1 s, 2 s, 4 s … up to the cap, for the n-th consecutive failed mint (n >= 1). Doubling stops
// at the cap, so no multiplication can overflow.
duration mint_backoff(const token_pool_options& options, unsigned failed_mints) {
  duration delay = options.mint_backoff_initial;
  for (unsigned i = 1; i < failed_mints && delay > duration::zero() &&
                       delay < options.mint_backoff_max;
       ++i) {
    delay *= 2;
  }
  return std::min(delay, options.mint_backoff_max);
}

}  // namespace

token_pool::token_pool(token_pool_options options)
    : options_(options), slots_(options.size) {}

// Cooling and benching end by the clock alone; the stored state is only rewritten by events, and
// every reader goes through here, so no call has to "tick" the pool first.
slot_state token_pool::effective_state(const slot& s, time_point now) {
  switch (s.state) {
    case slot_state::cooling:
      return now >= s.cooling_until ? slot_state::ready : slot_state::cooling;
    case slot_state::benched:
      return now >= s.next_mint ? slot_state::empty : slot_state::benched;
    case slot_state::empty:
    case slot_state::minting:
    case slot_state::ready:
      return s.state;
  }
  return s.state;
}

bool token_pool::can_lease(const slot& s, time_point now) const {
  return effective_state(s, now) == slot_state::ready &&
         (options_.max_inflight == 0 || s.in_flight < options_.max_inflight);
}

void token_pool::install(slot& s, guest_token token, time_point now) {
  s.state = slot_state::ready;
  s.minted_after = rejections_;
  s.token = std::move(token);
  s.failures = 0;
  s.mint_failures = 0;
  s.replacing = false;
  s.last_acquired = time_point::min();
  s.next_mint = options_.max_age > duration::zero() ? now + options_.max_age : time_point::max();
}

// The token is gone for good: leases still out on it become stale, so their releases can no
// longer change this slot (this is what makes a 401 re-mint single-flight).
void token_pool::discard_token(slot& s) {
  ++s.generation;
  s.stale_in_flight += s.in_flight;
  s.in_flight = 0;
  s.token = {};
  s.failures = 0;
}

std::vector<std::size_t> token_pool::take_mint_jobs(time_point now) {
  std::vector<std::size_t> jobs;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slot& s = slots_[i];
    switch (effective_state(s, now)) {
      case slot_state::empty:
        if (s.next_mint <= now) {
          s.state = slot_state::minting;
          jobs.push_back(i);
        }
        break;
      case slot_state::ready:
      case slot_state::cooling:
        if (!s.replacing && s.next_mint <= now) {
          s.replacing = true;
          jobs.push_back(i);
        }
        break;
      case slot_state::minting:
      case slot_state::benched:
        break;
    }
  }
  return jobs;
}

bool token_pool::mint_succeeded(std::size_t index, guest_token token, time_point now) {
  if (index >= slots_.size()) return false;
  slot& s = slots_[index];
  if (s.state == slot_state::minting) {
    install(s, std::move(token), now);
    return true;
  }
  if (s.replacing) {
    discard_token(s);
    install(s, std::move(token), now);
    return true;
  }
  return false;
}

bool token_pool::mint_failed(std::size_t index, time_point now) {
  if (index >= slots_.size()) return false;
  slot& s = slots_[index];
  if (s.state == slot_state::minting) {
    s.state = slot_state::empty;
  } else if (s.replacing) {
    s.replacing = false;  // the old token keeps serving until the retry succeeds
  } else {
    return false;
  }
  s.next_mint = now + mint_backoff(options_, ++s.mint_failures);
  return true;
}

std::optional<time_point> token_pool::next_deadline(time_point now) const {
  time_point earliest = time_point::max();
  for (const slot& s : slots_) {
    switch (effective_state(s, now)) {
      case slot_state::empty:
      case slot_state::benched:
        earliest = std::min(earliest, s.next_mint);
        break;
      case slot_state::cooling:
        earliest = std::min(earliest, s.cooling_until);
        [[fallthrough]];
      case slot_state::ready:
        if (!s.replacing) earliest = std::min(earliest, s.next_mint);
        break;
      case slot_state::minting:
        break;  // waits for the server's report, not for time
    }
  }
  if (earliest == time_point::max()) return std::nullopt;
  return std::max(earliest, now);
}

std::optional<token_lease> token_pool::acquire(time_point now, std::uint64_t minted_after) {
  slot* best = nullptr;
  std::size_t best_index = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slot& s = slots_[i];
    if (!can_lease(s, now) || s.minted_after < minted_after) continue;
    // Idle first is just "fewest leases" at zero; ties go to the least recently acquired.
    if (best == nullptr || s.in_flight < best->in_flight ||
        (s.in_flight == best->in_flight && s.last_acquired < best->last_acquired)) {
      best = &s;
      best_index = i;
    }
  }
  if (best == nullptr) return std::nullopt;
  ++best->in_flight;
  best->last_acquired = now;
  return token_lease{best_index, best->generation, best->token};
}

void token_pool::release(const token_lease& lease, lease_outcome outcome, time_point now,
                         std::optional<duration> retry_after) {
  if (lease.slot >= slots_.size()) return;
  slot& s = slots_[lease.slot];
  if (lease.generation != s.generation) {
    // The token this lease used was already discarded; whatever happened to it is old news.
    if (lease.generation < s.generation && s.stale_in_flight > 0) --s.stale_in_flight;
    return;
  }
  // A lease on the current generation exists only while the slot holds that token, i.e. while the
  // slot is ready or cooling.
  if (s.in_flight > 0) --s.in_flight;
  switch (outcome) {
    case lease_outcome::ok:
      s.failures = 0;
      return;
    case lease_outcome::unauthorized:
      ++rejections_;
      discard_token(s);
      if (s.replacing) {
        s.replacing = false;  // the replacement already being minted becomes the slot's mint
        s.state = slot_state::minting;
      } else {
        s.state = slot_state::empty;
        s.next_mint = now;
      }
      return;
    case lease_outcome::rate_limited: {
      const duration rest = std::clamp(retry_after.value_or(options_.default_cooldown),
                                       duration::zero(), options_.max_cooldown);
      const bool cooling = effective_state(s, now) == slot_state::cooling;
      s.cooling_until = cooling ? std::max(s.cooling_until, now + rest) : now + rest;
      s.state = slot_state::cooling;
      return;
    }
    case lease_outcome::failure:
      if (options_.max_failures == 0 || ++s.failures < options_.max_failures) return;
      discard_token(s);
      s.replacing = false;  // a replacement still being minted is dropped when it reports
      s.state = slot_state::benched;
      s.next_mint = now + options_.bench_duration;
      return;
  }
}

token_pool_stats token_pool::stats(time_point now) const {
  token_pool_stats out;
  out.total = slots_.size();
  for (const slot& s : slots_) {
    switch (effective_state(s, now)) {
      case slot_state::empty: ++out.empty; break;
      case slot_state::minting: ++out.minting; break;
      case slot_state::ready: ++out.ready; break;
      case slot_state::cooling: ++out.cooling; break;
      case slot_state::benched: ++out.benched; break;
    }
    if (s.in_flight > 0) ++out.busy;
    out.in_flight += s.in_flight + s.stale_in_flight;
  }
  return out;
}

std::chrono::seconds token_pool::retry_after_hint(time_point now) const {
  using std::chrono::seconds;
  if (slots_.empty()) return retry_after_without_slots;
  // Mints and lease releases have no known end time; a second is an honest guess for both.
  const time_point soon = now + seconds(1);
  time_point usable = time_point::max();
  for (const slot& s : slots_) {
    switch (effective_state(s, now)) {
      case slot_state::ready:
        if (can_lease(s, now)) return seconds(0);
        usable = std::min(usable, soon);
        break;
      case slot_state::minting:
        usable = std::min(usable, soon);
        break;
      case slot_state::cooling:
        usable = std::min(usable, s.cooling_until);
        break;
      case slot_state::empty:
      case slot_state::benched:
        usable = std::min(usable, std::max(s.next_mint, soon));
        break;
    }
  }
  return std::max(seconds(1), std::chrono::ceil<seconds>(usable - now));
}

slot_state token_pool::state(std::size_t index, time_point now) const {
  if (index >= slots_.size()) return slot_state::empty;
  return effective_state(slots_[index], now);
}

}  // namespace zai
