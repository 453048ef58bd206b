#include "server/token_service.hpp"

namespace zai::server {
namespace {

std::chrono::steady_clock::time_point now() { return std::chrono::steady_clock::now(); }

}  // namespace

token_service::token_service(asio::io_context& io, token_pool_options options, guest_minter mint)
    : io_(io), pool_(options), mint_(std::move(mint)), timer_(io) {}

void token_service::start() { asio::co_spawn(io_, run(), asio::detached); }

void token_service::stop() {
  stopped_ = true;
  timer_.cancel();
}

void token_service::wake() { timer_.cancel(); }

awaitable<void> token_service::run() {
  while (!stopped_) {
    for (std::size_t slot : pool_.take_mint_jobs(now())) {
      asio::co_spawn(io_, mint_one(slot), asio::detached);
    }
    const auto deadline = pool_.next_deadline(now());
    if (deadline) {
      timer_.expires_at(*deadline);
    } else {
      timer_.expires_at(std::chrono::steady_clock::time_point::max());
    }
    co_await timer_.async_wait(nothrow_awaitable);  // a cancel means "state changed: look again"
  }
}

awaitable<void> token_service::mint_one(std::size_t slot) {
  auto token = co_await mint_();
  if (stopped_) co_return;
  if (token) {
    pool_.mint_succeeded(slot, std::move(*token), now());
  } else {
    pool_.mint_failed(slot, now());
  }
  wake();
}

std::optional<token_lease> token_service::acquire() { return pool_.acquire(now()); }

void token_service::release(const token_lease& lease, lease_outcome outcome,
                            std::optional<std::chrono::seconds> retry_after) {
  std::optional<token_pool::duration> hint;
  if (retry_after) hint = *retry_after;
  pool_.release(lease, outcome, now(), hint);
  if (outcome != lease_outcome::ok) wake();
}

token_pool_stats token_service::stats() const { return pool_.stats(now()); }

std::chrono::seconds token_service::retry_after_hint() const {
  return pool_.retry_after_hint(now());
}

}  // namespace zai::server
