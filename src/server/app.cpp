#include "server/app.hpp"

#include <random>

#include "native/hmac_openssl.hpp"
#include "server/log.hpp"

namespace zai::server {
namespace {

constexpr std::size_t small_body_limit = 1024 * 1024;
constexpr std::size_t front_page_limit = 4 * small_body_limit;
constexpr auto upstream_keep_alive = std::chrono::seconds(30);
constexpr auto upstream_drain_timeout = std::chrono::seconds(2);
constexpr std::size_t upstream_drain_limit = 64 * 1024;
constexpr std::size_t max_idle_upstream = 64;

endpoint endpoint_of(const http_url& url) {
  return endpoint{url.tls(), url.host, std::to_string(url.port)};
}

std::uint64_t random_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

}  // namespace

instant now() {
  using namespace std::chrono;
  return {steady_clock::now(),
          duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
}

http::request<http::string_body> to_beast(const upstream_request& up, const http_url& base) {
  http::request<http::string_body> r(http::string_to_verb(up.method), up.target, 11);
  r.set(http::field::host, base.authority());
  for (const auto& [name, value] : up.headers) r.set(name, value);
  r.body() = up.body;
  return r;
}

app::app(asio::io_context& io, config cfg)
    : io_(io),
      gateway_(std::move(cfg), random_seed(), native::hmac_sha256),
      tls_(ssl::context::tls_client),
      upkeep_timer_(io) {
  tls_.set_default_verify_paths();
  tls_.set_verify_mode(ssl::verify_peer);
  upstream_ = endpoint_of(gateway_.cfg().zai_base_url);
  timeouts_.connect = gateway_.cfg().upstream_connect_timeout;
  timeouts_.first_byte = gateway_.cfg().upstream_first_byte_timeout;
  timeouts_.idle = gateway_.cfg().upstream_idle_timeout;
}

void app::start() { asio::co_spawn(io_, upkeep_loop(), asio::detached); }

void app::stop() {
  stopped_ = true;
  upkeep_timer_.cancel();
  notify_mint_waiters();
  for (auto& idle : idle_upstream_) idle.connection->cancel();
  idle_upstream_.clear();
}

std::unique_ptr<http_connection> app::connect(const endpoint& where) {
  return std::make_unique<http_connection>(io_.get_executor(), tls_, where, timeouts_);
}

std::shared_ptr<http_connection> app::take_upstream() {
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
  return connect(upstream_);
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

// Performs the gateway's upkeep jobs when they fall due: a cancel of the timer means "something
// changed: look again".
awaitable<void> app::upkeep_loop() {
  while (!stopped_) {
    for (upkeep_job& job : gateway_.upkeep(now())) {
      asio::co_spawn(io_, run_job(std::move(job)), asio::detached);
    }
    const auto next = gateway_.next_upkeep(now());
    upkeep_timer_.expires_at(next ? *next : std::chrono::steady_clock::time_point::max());
    co_await upkeep_timer_.async_wait(nothrow_awaitable);
  }
}

void app::wake_upkeep() { upkeep_timer_.cancel(); }

awaitable<void> app::run_job(upkeep_job job) {
  auto conn = connect(upstream_);
  unsigned status = 0;
  std::string body;
  std::string why;
  if (auto ec = co_await conn->connect(); ec) {
    why = ec.message();
  } else {
    auto r = to_beast(job.request, cfg().zai_base_url);
    if (ec = co_await conn->send(r); ec) {
      why = ec.message();
    } else {
      status = conn->status();
      const auto limit = job.what == upkeep_job::kind::mint ? small_body_limit : front_page_limit;
      if (ec = co_await conn->read_body(body, limit); ec) why = ec.message();
    }
  }
  conn->cancel();
  if (stopped_) co_return;
  if (job.what == upkeep_job::kind::mint) {
    if (!gateway_.mint_done(job.slot, why.empty() ? status : 0, body, now())) {
      log_event("warn", "guest_mint_failed",
                {{"status", std::to_string(status)},
                 {"reason", why.empty() ? "no usable guest token in the answer" : why}});
    }
    notify_mint_waiters();
  } else if (gateway_.scrape_done(why.empty() ? status : 0, body, now())) {
    log_event("info", "fe_version", {{"version", gateway_.fe_version()}});
  } else if (status != 200) {
    log_event("warn", "fe_version_scrape_failed", {{"using", gateway_.fe_version()}});
  }
  wake_upkeep();
}

awaitable<void> app::wait_for_mint(std::chrono::milliseconds limit) {
  if (stopped_) co_return;
  asio::steady_timer timer(io_);
  timer.expires_after(limit);
  mint_waiters_.push_back(&timer);
  co_await timer.async_wait(nothrow_awaitable);  // cancelled by notify_mint_waiters
  std::erase(mint_waiters_, &timer);
}

void app::notify_mint_waiters() {
  for (asio::steady_timer* t : mint_waiters_) t->cancel();
}

std::uint64_t app::on_cut(std::function<void()> hook) {
  const std::uint64_t id = next_cut_++;
  cut_hooks_.emplace(id, std::move(hook));
  return id;
}

void app::cut_in_flight() {
  // A hook only sets flags and closes sockets; the requests resume later, on this executor.
  const auto hooks = cut_hooks_;
  for (const auto& [id, hook] : hooks) hook();
  notify_mint_waiters();
}

}  // namespace zai::server
