#include "server/worker.hpp"

#include "core/api/front_door.hpp"

namespace zai::server {
namespace {

constexpr auto upstream_keep_alive = std::chrono::seconds(30);
constexpr auto upstream_drain_timeout = std::chrono::seconds(2);
constexpr std::size_t upstream_drain_limit = 64 * 1024;
constexpr std::size_t max_idle_upstream = 64;

server_limits limits_of(const config& cfg) {
  server_limits limits;
  limits.max_body_bytes = cfg.max_body_bytes;
  limits.max_header_bytes = cfg.max_header_bytes;
  limits.header_timeout = cfg.request_header_timeout;
  limits.body_timeout = cfg.request_body_timeout;
  limits.keep_alive_idle = cfg.keep_alive_timeout;
  limits.max_connections = cfg.max_connections;
  return limits;
}

// Refusals before a handler runs (oversized, malformed, slow or too many) speak the envelope of
// the path they were for, OpenAI's when it is not known.
refusal_writer refusals(const config& cfg) {
  return [&cfg](const api_error& e, std::string_view method, std::string_view target) {
    const auto api = match_route(request_path(target), method).api;
    plain_response answer = error_answer(e, "", cfg, api);
    http::response<http::string_body> r(static_cast<http::status>(answer.status), 11);
    r.set(http::field::server, "zai-proxy");
    r.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : answer.headers) r.set(name, value);
    r.body() = std::move(answer.body);
    return r;
  };
}

}  // namespace

worker::worker(app& shared)
    : app_(shared),
      server_(
          io_, limits_of(shared.cfg()), [this](exchange& ex) { return handle(ex); },
          refusals(shared.cfg()), shared.connections()) {}

std::unique_ptr<http_connection> worker::connect(const endpoint& where) {
  return std::make_unique<http_connection>(io_.get_executor(), app_.tls(), where, app_.timeouts());
}

std::shared_ptr<http_connection> worker::take_upstream() {
  const auto t = std::chrono::steady_clock::now();
  while (!idle_upstream_.empty()) {
    auto idle = std::move(idle_upstream_.back());
    idle_upstream_.pop_back();
    // Past this age the upstream has likely closed it; reconnecting is cheaper than a retry.
    if (t - idle.since < upstream_keep_alive && idle.connection->is_open()) {
      return std::move(idle.connection);
    }
    idle.connection->cancel();
  }
  return connect(app_.upstream());
}

void worker::recycle_upstream(std::shared_ptr<http_connection> connection) {
  if (app_.stopped() || !connection->is_open() || !connection->keep_alive()) {
    connection->cancel();
    return;
  }
  asio::co_spawn(io_, drain_and_keep(std::move(connection)), asio::detached);
}

awaitable<void> worker::drain_and_keep(std::shared_ptr<http_connection> connection) {
  // The translator stops at the done event; the upstream may still send `data: [DONE]` and the
  // chunked terminator. A little of that is read and dropped; an upstream that keeps talking
  // loses its connection instead.
  std::string rest;
  connection->set_idle_timeout(upstream_drain_timeout);
  const auto ec = co_await connection->read_body(rest, upstream_drain_limit);
  connection->set_idle_timeout(app_.timeouts().idle);
  if (ec || app_.stopped() || !connection->body_done() || !connection->keep_alive() ||
      idle_upstream_.size() >= max_idle_upstream) {
    connection->cancel();
    co_return;
  }
  connection->mark_reused();
  idle_upstream_.push_back({std::move(connection), std::chrono::steady_clock::now()});
}

awaitable<void> worker::wait_for_mint(std::chrono::milliseconds limit) {
  if (app_.stopped()) co_return;
  asio::steady_timer timer(io_);
  timer.expires_after(limit);
  mint_waiters_.push_back(&timer);
  // The mint may have ended on the upkeep's loop after the flow looked and before this waiter
  // was listed: then nothing would wake it.
  if (app_.core().mint_under_way(now())) co_await timer.async_wait(nothrow_awaitable);
  std::erase(mint_waiters_, &timer);
}

void worker::wake_mint_waiters() {
  for (asio::steady_timer* t : mint_waiters_) t->cancel();
}

std::uint64_t worker::on_cut(std::function<void()> hook) {
  const std::uint64_t id = next_cut_++;
  cut_hooks_.emplace(id, std::move(hook));
  return id;
}

void worker::cut_in_flight() {
  // A hook only sets flags and closes sockets; the requests resume later, on this loop.
  const auto hooks = cut_hooks_;
  for (const auto& [id, hook] : hooks) hook();
  wake_mint_waiters();
}

void worker::stop() {
  server_.stop_accepting();
  wake_mint_waiters();
  for (auto& idle : idle_upstream_) idle.connection->cancel();
  idle_upstream_.clear();
}

}  // namespace zai::server
