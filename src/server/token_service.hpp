// Keeps the guest-token pool full: mints tokens in the background (concurrently at start-up,
// with backoff after failures, after a 401, on age), wakes at the pool's next deadline with one
// timer, and serialises all pool access on the server's single executor.
#pragma once

#include <functional>

#include "core/token_pool.hpp"
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
  void release(const token_lease& lease, lease_outcome outcome,
               std::optional<std::chrono::seconds> retry_after = std::nullopt);
  token_pool_stats stats() const;
  std::chrono::seconds retry_after_hint() const;
  std::size_t size() const { return pool_.size(); }

 private:
  awaitable<void> run();
  awaitable<void> mint_one(std::size_t slot);
  void wake();

  asio::io_context& io_;
  token_pool pool_;
  guest_minter mint_;
  asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace zai::server
