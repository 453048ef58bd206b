// What every event loop shares, owned once by main: the core's gateway (configuration, guest-token
// pool, WAF breaker, front-end version, stored responses: src/core/flow/gateway.hpp) behind a
// mutex, the TLS context, the upkeep that performs the gateway's mints and scrapes, the
// process-wide connection count, and the loops themselves (worker.hpp), one per WORKERS.
// The upkeep runs on the first loop; a mint it finishes wakes the completions waiting for it on
// every loop. Shutdown (main.cpp) goes through here to reach every loop.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "core/config.hpp"
#include "core/flow/gateway.hpp"
#include "server/http_client.hpp"
#include "server/http_server.hpp"

namespace zai::server {

class worker;

// The upstream request as Beast sends it, with Host from the base URL.
http::request<http::string_body> to_beast(const upstream_request& up, const http_url& base);

// Now, as the core's calls take it.
instant now();

class app {
 public:
  app(config cfg, std::size_t workers);
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  const config& cfg() const { return gateway_.cfg(); }
  gateway& core() { return gateway_; }
  ssl::context& tls() { return tls_; }
  const endpoint& upstream() const { return upstream_; }
  const client_timeouts& timeouts() const { return timeouts_; }
  connection_count& connections() { return connections_; }
  const std::vector<std::unique_ptr<worker>>& workers() const { return workers_; }
  worker& first() { return *workers_.front(); }

  // Listens on HOST:PORT, starts accepting and the upkeep; the port actually bound.
  result<unsigned short, error_code> start();
  // Runs every loop, the first on this thread, until stop_loops(); then joins the others.
  void run();

  // From any loop. The gateway's upkeep (mints, scrapes) runs at its deadlines; wake_upkeep()
  // makes it look again when a deadline moved earlier (a verdict emptied a slot).
  void wake_upkeep();
  // A mint ended: the completions waiting for one, on every loop, try again.
  void mint_ended();
  bool stopped() const { return stopped_; }

  // The shutdown, from the first loop: stop accepting and upkeep everywhere; cut the completions
  // still in flight (each loop cuts its own); end every loop.
  void stop();
  void cut_in_flight();
  void stop_loops();
  std::size_t completions_in_flight() const { return gateway_.completions_in_flight(); }

 private:
  class mutex_lock final : public gateway_lock {
   public:
    void lock() override { mutex_.lock(); }
    void unlock() override { mutex_.unlock(); }

   private:
    std::mutex mutex_;
  };

  awaitable<void> upkeep_loop();
  awaitable<void> run_job(upkeep_job job);

  mutex_lock lock_;
  gateway gateway_;
  ssl::context tls_;
  endpoint upstream_;
  client_timeouts timeouts_;
  connection_count connections_;
  std::atomic<bool> stopped_ = false;
  // When the upkeep timer fires, as steady-clock ticks; the maximum while the upkeep loop is
  // choosing it, so that a change made meanwhile wakes it (wake_upkeep).
  std::atomic<std::chrono::steady_clock::rep> upkeep_armed_for_;
  std::vector<std::unique_ptr<worker>> workers_;      // after the gateway: flows end before it
  std::unique_ptr<asio::steady_timer> upkeep_timer_;  // on the first loop
};

}  // namespace zai::server
