// One event loop of the server (WORKERS of them, each on its own thread): its io_context, the
// HTTP server whose connections it serves, its idle upstream connections, and the completions in
// flight on it with what they wait on (a mint, the shutdown cut). Nothing here is touched from
// another loop except through post(): the loops share only the app (app.hpp) and its gateway.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "server/app.hpp"
#include "server/http_client.hpp"
#include "server/http_server.hpp"

namespace zai::server {

class worker {
 public:
  explicit worker(app& shared);
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  asio::io_context& io() { return io_; }
  app& shared() { return app_; }
  const config& cfg() const { return app_.cfg(); }
  http_server& server() { return server_; }

  // A connection to `where` on this loop, with the upstream's timeouts (TLS for https).
  std::unique_ptr<http_connection> connect(const endpoint& where);

  // Completion connections are kept alive between requests: a TCP (and TLS) handshake per
  // request costs more than everything else the proxy does. take_upstream() returns an idle
  // connected one when there is one (its `reused()` is true), else a new unconnected one.
  // recycle_upstream() reads what is left of a finished response in the background and keeps
  // the connection if the upstream allows it; anything doubtful is closed. Each loop keeps its
  // own idle connections.
  std::shared_ptr<http_connection> take_upstream();
  void recycle_upstream(std::shared_ptr<http_connection> connection);

  // Returns when a mint ends (on any loop) or `limit` passes, whichever is first.
  awaitable<void> wait_for_mint(std::chrono::milliseconds limit);
  void wake_mint_waiters();

  // Completions in flight on this loop, each with the hook a shutdown calls once its grace
  // period is over.
  std::uint64_t on_cut(std::function<void()> hook);
  void forget_cut(std::uint64_t id) { cut_hooks_.erase(id); }
  void cut_in_flight();
  // Stops accepting, drops the idle upstream connections, wakes the mint waiters.
  void stop();

  // The main request entry point (routing, CORS, auth, access log): routes.cpp.
  awaitable<bool> handle(exchange& ex);

 private:
  awaitable<bool> answer(exchange& ex);  // handle() without the access log and the catch
  awaitable<bool> send_internal_error(exchange& ex);  // a 500 for a request that crashed
  awaitable<void> drain_and_keep(std::shared_ptr<http_connection> connection);

  struct idle_connection {
    std::shared_ptr<http_connection> connection;
    std::chrono::steady_clock::time_point since;
  };

  app& app_;
  asio::io_context io_{1};
  // A loop with nothing to do yet (no acceptor of its own) must still run until stop_loops().
  asio::executor_work_guard<asio::io_context::executor_type> keep_running_{io_.get_executor()};
  http_server server_;
  std::vector<asio::steady_timer*> mint_waiters_;
  std::vector<idle_connection> idle_upstream_;  // most recently used last
  std::map<std::uint64_t, std::function<void()>> cut_hooks_;
  std::uint64_t next_cut_ = 1;
};

}  // namespace zai::server
