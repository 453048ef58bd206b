// The guest-token pool's policy: which token serves the next request, when a slot needs a fresh
// guest token, and how upstream answers (401, 429, failures) and age take a token out of service.
// It is bookkeeping only: the server mints tokens over HTTP, owns one timer (woken at
// `next_deadline`) and passes `now` into every call, so the pool never reads a clock, starts no
// thread and takes no lock — the server keeps one pool per executor or serialises calls. Time is
// a `std::chrono::steady_clock::time_point`, so tests drive it by hand from `time_point{}`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/zai/guest_token.hpp"

namespace zai {

struct token_pool_options {
  std::size_t size = 5;          // TOKEN_POOL_SIZE; 0 is allowed and nothing is ever available
  std::size_t max_inflight = 0;  // TOKEN_MAX_INFLIGHT leases per token; 0 = no cap
  unsigned max_failures = 3;     // consecutive failed requests that bench a token; 0 = never
  std::chrono::steady_clock::duration bench_duration = std::chrono::minutes(5);
  std::chrono::steady_clock::duration default_cooldown = std::chrono::seconds(10);  // 429, no hint
  std::chrono::steady_clock::duration max_cooldown = std::chrono::minutes(10);  // caps Retry-After
  std::chrono::steady_clock::duration mint_backoff_initial = std::chrono::seconds(1);
  std::chrono::steady_clock::duration mint_backoff_max = std::chrono::seconds(60);
  std::chrono::steady_clock::duration max_age{};  // replace older tokens; 0 = keep forever
};

// What a slot is doing. A token being replaced for age stays `ready` (or `cooling`) and serves on
// until its successor is installed, so age never opens a gap in service.
enum class slot_state {
  empty,    // no token; a mint is due at a known time (start-up, after 401, after backoff)
  minting,  // the server is minting a token for it
  ready,    // has a token that may be leased
  cooling,  // has a token resting until a time, after a 429
  benched,  // its token failed `max_failures` times in a row; a mint is due when the bench ends
};

enum class lease_outcome {
  ok,            // the upstream answered; resets the token's consecutive failures
  unauthorized,  // upstream 401: the token is dead, mint a new one (once per token)
  rate_limited,  // 429 / "concurrency": rest this token for Retry-After or the default
  failure,       // any other upstream failure; counts towards the bench
};

// One request's use of one token. `generation` names the token the slot held when leased, so a
// release that arrives after the slot moved on to another token cannot affect the new one.
struct token_lease {
  std::size_t slot = 0;
  std::uint64_t generation = 0;
  guest_token token;
};

// Counts for /health: every slot is in exactly one of ready…empty; `busy` counts slots whose
// current token has leases out, `in_flight` all outstanding leases (also those on replaced tokens).
// Deliberately numbers only — a token never leaves the pool through here.
struct token_pool_stats {
  std::size_t total = 0;
  std::size_t ready = 0;
  std::size_t busy = 0;
  std::size_t cooling = 0;
  std::size_t benched = 0;
  std::size_t minting = 0;
  std::size_t empty = 0;
  std::size_t in_flight = 0;
};

class token_pool {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  // Answered by retry_after_hint when the pool has no slots at all.
  static constexpr std::chrono::seconds retry_after_without_slots{60};

  explicit token_pool(token_pool_options options = {});

  // Slots the server should mint for now; each is marked as minting (or as being replaced) and
  // is not returned again until its outcome is reported.
  std::vector<std::size_t> take_mint_jobs(time_point now);
  // Reports of a mint taken from take_mint_jobs. False when the slot expects no mint (its mint was
  // abandoned because the token was benched meanwhile): the server just drops the token.
  bool mint_succeeded(std::size_t slot, guest_token token, time_point now);
  bool mint_failed(std::size_t slot, time_point now);
  // The earliest time at which something changes without a report (a mint falls due, a cooldown
  // or bench ends, a token ages out); never earlier than `now`. Call take_mint_jobs when it comes.
  std::optional<time_point> next_deadline(time_point now) const;

  // The idle ready token used least recently; if every ready token is busy, the one with the fewest
  // leases, then least recently used. Tokens at `max_inflight` leases are skipped. Nullopt: 503.
  // `minted_after`: only tokens installed after that many rejections (rejections()), so a retry
  // after a 401 never goes to a token minted before the upstream rejected one (it may have
  // invalidated every guest session at once).
  std::optional<token_lease> acquire(time_point now, std::uint64_t minted_after = 0);
  // Every lease is released exactly once. `retry_after` only matters for rate_limited.
  void release(const token_lease& lease, lease_outcome outcome, time_point now,
               std::optional<duration> retry_after = std::nullopt);

  // 401s reported so far (lease_outcome::unauthorized on a current token).
  std::uint64_t rejections() const { return rejections_; }

  token_pool_stats stats(time_point now) const;
  // The Retry-After for a 503 when acquire found nothing: whole seconds until a token is likely
  // usable, at least 1; 0 when acquire would succeed now.
  std::chrono::seconds retry_after_hint(time_point now) const;
  slot_state state(std::size_t slot, time_point now) const;
  std::size_t size() const { return slots_.size(); }

 private:
  struct slot {
    slot_state state = slot_state::empty;
    guest_token token;
    std::uint64_t generation = 0;  // bumped whenever the slot's token is discarded
    std::size_t in_flight = 0;     // leases on the current generation
    std::size_t stale_in_flight = 0;  // leases on earlier generations, still to be released
    unsigned failures = 0;            // consecutive failed requests on the current token
    unsigned mint_failures = 0;       // consecutive failed mints, for the backoff
    bool replacing = false;           // an age replacement is being minted while the token serves
    time_point next_mint{};  // empty: next attempt; benched: bench end; ready/cooling: age-out
    time_point cooling_until{};
    time_point last_acquired = time_point::min();
    std::uint64_t minted_after = 0;  // rejections() when the current token was installed
  };

  bool can_lease(const slot& s, time_point now) const;
  void install(slot& s, guest_token token, time_point now);
  static void discard_token(slot& s);
  static slot_state effective_state(const slot& s, time_point now);

  token_pool_options options_;
  std::vector<slot> slots_;
  std::uint64_t rejections_ = 0;
};

}  // namespace zai
