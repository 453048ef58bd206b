#include "server/app.hpp"

#include <boost/json/parse.hpp>

#include <iostream>

#include "core/zai/request.hpp"
#include "server/log.hpp"
#include "server/respond.hpp"

namespace zai::server {
namespace {

constexpr std::size_t small_body_limit = 1024 * 1024;
constexpr auto upstream_keep_alive = std::chrono::seconds(30);
constexpr auto upstream_drain_timeout = std::chrono::seconds(2);
constexpr std::size_t upstream_drain_limit = 64 * 1024;
constexpr std::size_t max_idle_upstream = 64;
constexpr auto fe_refresh_interval = std::chrono::minutes(30);

endpoint endpoint_of(const http_url& url) {
  return endpoint{url.tls(), url.host, std::to_string(url.port)};
}

}  // namespace

app::app(asio::io_context& io, config cfg)
    : io_(io),
      cfg_(std::move(cfg)),
      tls_(ssl::context::tls_client),
      tokens_(io, pool_options(cfg_), [this] { return mint_guest(); }),
      fe_timer_(io),
      ids_(std::random_device{}()),
      breaker_(breaker_options(cfg_)) {
  tls_.set_default_verify_paths();
  tls_.set_verify_mode(ssl::verify_peer);
  upstream_ = endpoint_of(cfg_.zai_base_url);
  timeouts_.connect = cfg_.upstream_connect_timeout;
  timeouts_.first_byte = cfg_.upstream_first_byte_timeout;
  timeouts_.idle = cfg_.upstream_idle_timeout;
  fe_version_ = cfg_.zai_fe_version.empty() ? cfg_.zai_fe_version_fallback : cfg_.zai_fe_version;
}

void app::start() {
  tokens_.start();
  if (cfg_.zai_fe_version.empty()) asio::co_spawn(io_, fe_version_loop(), asio::detached);
}

void app::stop() {
  stopped_ = true;
  tokens_.stop();
  fe_timer_.cancel();
  for (auto& idle : idle_upstream_) idle.connection->cancel();
  idle_upstream_.clear();
}

http::request<http::string_body> to_beast(const upstream_request& up, const http_url& base) {
  http::request<http::string_body> r(http::string_to_verb(up.method), up.target, 11);
  r.set(http::field::host, base.authority());
  for (const auto& [name, value] : up.headers) r.set(name, value);
  r.body() = up.body;
  return r;
}

std::unique_ptr<http_connection> app::connect_upstream() {
  return std::make_unique<http_connection>(io_.get_executor(), tls_, upstream_, timeouts_);
}

std::shared_ptr<http_connection> app::take_upstream() {
  const auto now = std::chrono::steady_clock::now();
  while (!idle_upstream_.empty()) {
    auto idle = std::move(idle_upstream_.back());
    idle_upstream_.pop_back();
    // Past this age the upstream has likely closed it; reconnecting is cheaper than a retry.
    if (now - idle.since < upstream_keep_alive && idle.connection->is_open()) {
      return std::move(idle.connection);
    }
    idle.connection->cancel();
  }
  return connect_upstream();
}

void app::recycle_upstream(std::shared_ptr<http_connection> connection) {
  if (stopped_ || !connection->is_open() || !connection->keep_alive()) {
    connection->cancel();
    return;
  }
  asio::co_spawn(io_, drain_and_keep(std::move(connection)), asio::detached);
}

awaitable<void> app::drain_and_keep(std::shared_ptr<http_connection> connection) {
  // The translator stops at the done event; the upstream may still send `data: [DONE]` and the
  // chunked terminator. A little of that is read and dropped; an upstream that keeps talking
  // loses its connection instead.
  std::string rest;
  connection->set_idle_timeout(upstream_drain_timeout);
  const auto ec = co_await connection->read_body(rest, upstream_drain_limit);
  connection->set_idle_timeout(timeouts_.idle);
  if (ec || stopped_ || !connection->body_done() || !connection->keep_alive() ||
      idle_upstream_.size() >= max_idle_upstream) {
    connection->cancel();
    co_return;
  }
  connection->mark_reused();
  idle_upstream_.push_back({std::move(connection), std::chrono::steady_clock::now()});
}

front_status app::status() {
  const auto now = std::chrono::steady_clock::now();
  return {tokens_.stats(), fe_version_, describe_breaker(breaker_, now)};
}

std::optional<std::uint64_t> app::begin_completion(std::function<void()> cut) {
  if (in_flight_.size() >= cfg_.max_concurrent_streams) return std::nullopt;
  const std::uint64_t id = next_completion_++;
  in_flight_.emplace(id, std::move(cut));
  return id;
}

void app::cut_in_flight() {
  // A hook only sets flags and closes sockets; the requests resume later, on this executor.
  const auto hooks = in_flight_;
  for (const auto& [id, hook] : hooks) hook();
}

void app::refresh_fe_version() {
  if (!cfg_.zai_fe_version.empty() || scraping_) return;
  asio::co_spawn(io_, scrape_fe_version_once(), asio::detached);
}

awaitable<void> app::fe_version_loop() {
  while (!stopped_) {
    co_await scrape_fe_version_once();
    fe_timer_.expires_after(fe_refresh_interval);
    co_await fe_timer_.async_wait(nothrow_awaitable);
  }
}

awaitable<void> app::scrape_fe_version_once() {
  if (scraping_) co_return;
  scraping_ = true;
  auto conn = connect_upstream();
  std::string html;
  if (!co_await conn->connect()) {
    auto r = to_beast(build_front_page_request(cfg_), cfg_.zai_base_url);
    if (!co_await conn->send(r) && conn->status() == 200) {
      co_await conn->read_body(html, 4 * small_body_limit);
    }
  }
  conn->cancel();
  scraping_ = false;
  if (auto v = scrape_fe_version(html)) {
    if (*v != fe_version_) log_event("info", "fe_version", {{"version", *v}});
    fe_version_ = *v;
  } else {
    log_event("warn", "fe_version_scrape_failed", {{"using", fe_version_}});
  }
}

awaitable<std::optional<guest_token>> app::mint_guest() {
  auto conn = connect_upstream();
  if (const auto ec = co_await conn->connect(); ec) {
    log_event("warn", "guest_mint_failed", {{"reason", ec.message()}});
    co_return std::nullopt;
  }
  auto r = to_beast(build_guest_auth_request(cfg_, fe_version_), cfg_.zai_base_url);
  std::string body;
  if (const auto ec = co_await conn->send(r); ec) {
    log_event("warn", "guest_mint_failed", {{"reason", ec.message()}});
    co_return std::nullopt;
  }
  const unsigned status = conn->status();
  const auto ec = co_await conn->read_body(body, small_body_limit);
  conn->cancel();
  if (status != 200 || ec) {
    log_event("warn", "guest_mint_failed", {{"status", std::to_string(status)}});
    co_return std::nullopt;
  }
  auto token = parse_guest_auth_response(body);
  if (!token) {
    log_event("warn", "guest_mint_failed", {{"reason", "unreadable auth response"}});
    co_return std::nullopt;
  }
  co_return std::move(*token);
}

awaitable<std::optional<std::string>> app::fetch_captcha() {
  const auto& url = *cfg_.captcha_provider_url;
  http_connection conn(io_.get_executor(), tls_, endpoint_of(url), timeouts_);
  std::string body;
  if (!co_await conn.connect()) {
    http::request<http::string_body> r(http::verb::get, url.target(), 11);
    r.set(http::field::host, url.authority());
    r.set(http::field::accept, "application/json");
    if (!co_await conn.send(r) && conn.status() == 200) co_await conn.read_body(body, small_body_limit);
  }
  conn.cancel();
  error_code ec;
  const auto value = boost::json::parse(body, ec);
  if (!ec && value.is_object()) {
    if (const auto* p = value.as_object().if_contains("captcha_verify_param")) {
      if (const auto* s = p->if_string(); s && !s->empty()) co_return std::string(*s);
    }
  }
  log_event("warn", "captcha_provider_failed", {});
  co_return std::nullopt;
}

}  // namespace zai::server
