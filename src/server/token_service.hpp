// Keeps the guest-token pool full: mints tokens in the background (concurrently at start-up,
// with backoff after failures, after a 401, on age), wakes at the pool's next deadline with one
// timer, and serialises all pool access on the server's single executor.
#pragma once

#include <functional>
#include <vector>

#include "core/pool/token_pool.hpp"
#include "server/net.hpp"

namespace zai::server {

// Mints one guest token; an empty optional means the mint failed (logged by the minter).
using guest_minter = std::function<awaitable<std::optional<guest_token>>()>;

class token_service {
 public:
  token_service(asio::io_context& io, token_pool_options options, guest_minter mint);

  void start();
  void stop();

  std::optional<token_lease> acquire();
  // Like acquire(), but while a token is being minted now waits up to `limit` for it: after a
  // 401 the dead token's slot is re-minted at once, and the requests that saw the 401 (or came
  // in meanwhile) share that one fresh token instead of failing with 503. Start-up is the
  // exception: until the first token arrives, requests are refused at once. Nullopt when no
  // token can come in time (none minting, or all resting after 429s).
  awaitable<std::optional<token_lease>> acquire_within(std::chrono::steady_clock::duration limit);
  void release(const token_lease& lease, lease_outcome outcome,
               std::optional<std::chrono::seconds> retry_after = std::nullopt);
  token_pool_stats stats() const;
  std::chrono::seconds retry_after_hint() const;
  std::size_t size() const { return pool_.size(); }

 private:
  awaitable<void> run();
  awaitable<void> mint_one(std::size_t slot);
  void wake();
  void notify_waiters();
  bool mint_under_way() const;

  asio::io_context& io_;
  token_pool pool_;
  guest_minter mint_;
  asio::steady_timer timer_;
  bool stopped_ = false;
  bool started_serving_ = false;  // a mint has succeeded at least once
  std::vector<asio::steady_timer*> waiters_;  // acquire_within calls, woken on every change
};

}  // namespace zai::server
