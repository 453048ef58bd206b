// Everything a request handler needs, owned once by main: the core's gateway (configuration,
// guest-token pool, WAF breaker, front-end version: src/core/flow/gateway.hpp), the shared TLS
// context, the idle upstream connections, and the upkeep that performs the gateway's mints and
// scrapes. All of it lives on the server's one executor, so nothing here takes a lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/flow/gateway.hpp"
#include "server/http_client.hpp"
#include "server/http_server.hpp"

namespace zai::server {

// The upstream request as Beast sends it, with Host from the base URL.
http::request<http::string_body> to_beast(const upstream_request& up, const http_url& base);

// Now, as the core's calls take it.
instant now();

class app {
 public:
  explicit app(asio::io_context& io, config cfg);

  asio::io_context& io() { return io_; }
  const config& cfg() const { return gateway_.cfg(); }
  gateway& core() { return gateway_; }

  // A connection to `where` with the upstream's timeouts (TLS for https).
  std::unique_ptr<http_connection> connect(const endpoint& where);
  const endpoint& upstream() const { return upstream_; }

  // Completion connections are kept alive between requests: a TCP (and TLS) handshake per
  // request costs more than everything else the proxy does. take_upstream() returns an idle
  // connected one when there is one (its `reused()` is true), else a new unconnected one.
  // recycle_upstream() reads what is left of a finished response in the background and keeps
  // the connection if the upstream allows it; anything doubtful is closed.
  std::shared_ptr<http_connection> take_upstream();
  void recycle_upstream(std::shared_ptr<http_connection> connection);

  // The gateway's upkeep (mints, scrapes) runs at its deadlines; wake_upkeep() makes it look
  // again now (a verdict emptied a slot). wait_for_mint() returns when a mint ends or `limit`
  // passes, whichever is first.
  void wake_upkeep();
  awaitable<void> wait_for_mint(std::chrono::milliseconds limit);

  // Completions in flight, each with the hook a shutdown calls once its grace period is over.
  std::uint64_t on_cut(std::function<void()> hook);
  void forget_cut(std::uint64_t id) { cut_hooks_.erase(id); }
  void cut_in_flight();
  std::size_t completions_in_flight() const { return gateway_.completions_in_flight(); }

  void start();
  void stop();

  // The main request entry point (routing, CORS, auth, access log).
  awaitable<bool> handle(exchange& ex);

 private:
  awaitable<bool> answer(exchange& ex);  // handle() without the access log and the catch
  awaitable<void> upkeep_loop();
  awaitable<void> run_job(upkeep_job job);
  awaitable<void> drain_and_keep(std::shared_ptr<http_connection> connection);
  void notify_mint_waiters();

  struct idle_connection {
    std::shared_ptr<http_connection> connection;
    std::chrono::steady_clock::time_point since;
  };

  asio::io_context& io_;
  gateway gateway_;
  ssl::context tls_;
  endpoint upstream_;
  client_timeouts timeouts_;
  asio::steady_timer upkeep_timer_;
  std::vector<asio::steady_timer*> mint_waiters_;
  bool stopped_ = false;
  std::vector<idle_connection> idle_upstream_;  // most recently used last
  std::map<std::uint64_t, std::function<void()>> cut_hooks_;
  std::uint64_t next_cut_ = 1;
};

}  // namespace zai::server
