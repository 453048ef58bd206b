// Everything a request handler needs, owned once by main: the validated configuration, the
// model table, the guest-token pool, the upstream's current front-end version, and the shared
// TLS context. All of it lives on the server's one executor, so nothing here takes a lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/api/front_door.hpp"
#include "core/ids.hpp"
#include "core/models.hpp"
#include "core/zai/request.hpp"
#include "server/http_client.hpp"
#include "server/http_server.hpp"
#include "server/token_service.hpp"

namespace zai::server {

// The upstream request as Beast sends it, with Host from the base URL.
http::request<http::string_body> to_beast(const upstream_request& up, const http_url& base);

class app {
 public:
  explicit app(asio::io_context& io, config cfg);

  asio::io_context& io() { return io_; }
  const config& cfg() const { return cfg_; }
  const model_table& models() const { return cfg_.models; }
  token_service& tokens() { return tokens_; }
  ssl::context& tls() { return tls_; }

  // The upstream base as a connectable endpoint, and timeouts for its connections.
  const endpoint& upstream() const { return upstream_; }
  client_timeouts upstream_timeouts() const { return timeouts_; }
  std::unique_ptr<http_connection> connect_upstream();

  // Completion connections are kept alive between requests: a TCP (and TLS) handshake per
  // request costs more than everything else the proxy does. take_upstream() returns an idle
  // connected one when there is one (its `reused()` is true), else a new unconnected one.
  // recycle_upstream() reads what is left of a finished response in the background and keeps
  // the connection if the upstream allows it; anything doubtful is closed.
  std::shared_ptr<http_connection> take_upstream();
  void recycle_upstream(std::shared_ptr<http_connection> connection);

  // X-FE-Version to send: ZAI_FE_VERSION, else the last scraped one, else the pinned fallback.
  const std::string& fe_version() const { return fe_version_; }
  void refresh_fe_version();  // scrape now (if scraping is on), at most once at a time

  // One captcha value from CAPTCHA_PROVIDER_URL, or nothing (logged) when it has none.
  awaitable<std::optional<std::string>> fetch_captcha();

  // The WAF circuit breaker every completion consults before calling the upstream.
  waf_breaker& breaker() { return breaker_; }
  // What /health reports: the pool, the front-end version, the breaker.
  front_status status();

  // Completions in flight, capped by MAX_CONCURRENT_STREAMS. begin_completion() registers the
  // completion's cut hook (what a shutdown calls once its grace period is over) and returns its
  // id, or nothing at the cap; every id goes back through end_completion(). cut_in_flight()
  // calls every hook registered at that moment.
  std::optional<std::uint64_t> begin_completion(std::function<void()> cut);
  void end_completion(std::uint64_t id) { in_flight_.erase(id); }
  std::size_t completions_in_flight() const { return in_flight_.size(); }
  void cut_in_flight();

  std::string random_uuid() { return ids_.uuid(); }
  std::string completion_id() { return ids_.completion_id(); }

  void start();
  void stop();

  // The main request entry point (routing, CORS, auth, access log).
  awaitable<bool> handle(exchange& ex);

 private:
  awaitable<bool> answer(exchange& ex);  // handle() without the access log and the catch
  awaitable<void> fe_version_loop();
  awaitable<void> scrape_fe_version_once();
  awaitable<std::optional<guest_token>> mint_guest();
  awaitable<void> drain_and_keep(std::shared_ptr<http_connection> connection);

  struct idle_connection {
    std::shared_ptr<http_connection> connection;
    std::chrono::steady_clock::time_point since;
  };

  asio::io_context& io_;
  config cfg_;
  ssl::context tls_;
  endpoint upstream_;
  client_timeouts timeouts_;
  token_service tokens_;
  std::string fe_version_;
  bool scraping_ = false;
  asio::steady_timer fe_timer_;
  id_generator ids_;
  bool stopped_ = false;
  std::vector<idle_connection> idle_upstream_;  // most recently used last
  waf_breaker breaker_;
  std::map<std::uint64_t, std::function<void()>> in_flight_;  // completions and their cut hooks
  std::uint64_t next_completion_ = 1;
};

}  // namespace zai::server
