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
  notify_waiters();
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
    started_serving_ = true;
  } else {
    pool_.mint_failed(slot, now());
  }
  wake();
  notify_waiters();
}

std::optional<token_lease> token_service::acquire() { return pool_.acquire(now()); }

awaitable<std::optional<token_lease>> token_service::acquire_within(
    std::chrono::steady_clock::duration limit) {
  const auto deadline = now() + limit;
  asio::steady_timer timer(io_);
  for (;;) {
    if (auto lease = acquire()) co_return lease;
    if (stopped_ || !started_serving_ || !mint_under_way() || now() >= deadline) {
      co_return std::nullopt;
    }
    timer.expires_at(deadline);
    waiters_.push_back(&timer);
    co_await timer.async_wait(nothrow_awaitable);  // cancelled by notify_waiters on a change
    std::erase(waiters_, &timer);
  }
}

// A slot is minting, or is empty with its mint due now (a 401 just emptied it and run() has not
// woken yet). An empty slot waiting out a mint backoff is not worth a client's wait.
bool token_service::mint_under_way() const {
  const auto t = now();
  const auto s = pool_.stats(t);
  if (s.minting > 0) return true;
  const auto next = pool_.next_deadline(t);
  return s.empty > 0 && next && *next <= t;
}

void token_service::notify_waiters() {
  for (asio::steady_timer* t : waiters_) t->cancel();
}

void token_service::release(const token_lease& lease, lease_outcome outcome,
                            std::optional<std::chrono::seconds> retry_after) {
  std::optional<token_pool::duration> hint;
  if (retry_after) hint = *retry_after;
  pool_.release(lease, outcome, now(), hint);
  if (outcome != lease_outcome::ok) wake();
  notify_waiters();  // a freed lease can unblock a capped token (TOKEN_MAX_INFLIGHT)
}

token_pool_stats token_service::stats() const { return pool_.stats(now()); }

std::chrono::seconds token_service::retry_after_hint() const {
  return pool_.retry_after_hint(now());
}

}  // namespace zai::server
