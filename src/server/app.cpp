#include "server/app.hpp"

#include <random>
#include <thread>

#include "native/hmac_openssl.hpp"
#include "server/log.hpp"
#include "server/worker.hpp"

namespace zai::server {
namespace {

constexpr std::size_t small_body_limit = 1024 * 1024;
constexpr std::size_t front_page_limit = 4 * small_body_limit;
constexpr auto never = std::chrono::steady_clock::time_point::max();

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

app::app(config cfg, std::size_t workers)
    : gateway_(std::move(cfg), random_seed(), native::hmac_sha256, &lock_),
      tls_(ssl::context::tls_client),
      upkeep_armed_for_(never.time_since_epoch().count()) {
  tls_.set_default_verify_paths();
  tls_.set_verify_mode(ssl::verify_peer);
  upstream_ = endpoint_of(gateway_.cfg().zai_base_url);
  timeouts_.connect = gateway_.cfg().upstream_connect_timeout;
  timeouts_.first_byte = gateway_.cfg().upstream_first_byte_timeout;
  timeouts_.idle = gateway_.cfg().upstream_idle_timeout;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, workers); ++i) {
    workers_.push_back(std::make_unique<worker>(*this));
  }
  upkeep_timer_ = std::make_unique<asio::steady_timer>(first().io());
}

// The loops' pending coroutines (and the completion flows in them) go before the gateway.
app::~app() {
  upkeep_timer_.reset();
  workers_.clear();
}

// One acceptor, on the first loop, hands connections to the loops in turn. The alternative, a
// listener per loop on an SO_REUSEPORT port, lets the kernel split connections by a hash of their
// addresses: keep-alive clients (API clients, the benchmark) then leave one loop with more of
// them for as long as they stay (docs/PERFORMANCE.md has the measurement), while handing out
// costs one cross-loop post per new connection, which did not show even with a new connection
// per request.
result<unsigned short, error_code> app::start() {
  if (const auto ec = first().server().listen(cfg().host, cfg().port)) return ec;
  std::vector<http_server*> servers;
  for (const auto& w : workers_) servers.push_back(&w->server());
  first().server().start(std::move(servers));
  asio::co_spawn(first().io(), upkeep_loop(), asio::detached);
  return first().server().port();
}

void app::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    threads.emplace_back([w = workers_[i].get()] { w->io().run(); });
  }
  first().io().run();
  for (auto& t : threads) t.join();
}

void app::stop() {
  stopped_ = true;
  upkeep_timer_->cancel();
  for (const auto& w : workers_) asio::post(w->io(), [w = w.get()] { w->stop(); });
}

void app::cut_in_flight() {
  for (const auto& w : workers_) asio::post(w->io(), [w = w.get()] { w->cut_in_flight(); });
}

void app::stop_loops() {
  for (const auto& w : workers_) w->io().stop();
}

void app::mint_ended() {
  for (const auto& w : workers_) asio::post(w->io(), [w = w.get()] { w->wake_mint_waiters(); });
}

// Performs the gateway's upkeep jobs when they fall due: a cancel of the timer means "something
// changed: look again".
awaitable<void> app::upkeep_loop() {
  while (!stopped_) {
    upkeep_armed_for_ = never.time_since_epoch().count();
    for (upkeep_job& job : gateway_.upkeep(now())) {
      asio::co_spawn(first().io(), run_job(std::move(job)), asio::detached);
    }
    const auto next = gateway_.next_upkeep(now()).value_or(never);
    upkeep_timer_->expires_at(next);
    upkeep_armed_for_ = next.time_since_epoch().count();
    co_await upkeep_timer_->async_wait(nothrow_awaitable);
  }
}

// Posting to the first loop costs a wake-up there; most completions change no deadline.
void app::wake_upkeep() {
  if (stopped_) return;
  const auto next = gateway_.next_upkeep(now());
  if (!next || next->time_since_epoch().count() >= upkeep_armed_for_) return;
  asio::post(first().io(), [this] { upkeep_timer_->cancel(); });
}

awaitable<void> app::run_job(upkeep_job job) {
  auto conn = first().connect(upstream_);
  unsigned status = 0;
  std::string body;
  std::string why;
  if (auto ec = co_await conn->connect(); ec) {
    why = ec.message();
  } else {
    if (ec = co_await conn->send(to_beast(job.request, cfg().zai_base_url)); ec) {
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
    mint_ended();
  } else if (gateway_.scrape_done(why.empty() ? status : 0, body, now())) {
    log_event("info", "fe_version", {{"version", gateway_.fe_version()}});
  } else if (status != 200) {
    log_event("warn", "fe_version_scrape_failed", {{"using", gateway_.fe_version()}});
  }
  upkeep_timer_->cancel();  // its jobs are done: look again
}

}  // namespace zai::server
