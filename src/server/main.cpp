// zai-proxy: reads the configuration once (environment and flags), starts WORKERS event loops
// sharing one token pool, and on SIGTERM/SIGINT stops accepting, lets requests in flight finish
// within SHUTDOWN_GRACE_MS, cuts the rest short with an error, then exits 0.
#include <sys/resource.h>

#include <boost/asio/signal_set.hpp>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "core/config.hpp"
#include "core/api/front_door.hpp"
#include "server/app.hpp"
#include "server/cpu_share.hpp"
#include "server/health_probe.hpp"
#include "server/log.hpp"
#include "server/worker.hpp"

namespace {

using namespace zai;
using namespace zai::server;

// After the grace period, how long the requests it cut have to write their error and close.
constexpr std::chrono::seconds cut_wait{2};

std::optional<std::string> read_env(std::string_view name) {
  const std::string key(name);
  if (const char* v = std::getenv(key.c_str())) return std::string(v);
  return std::nullopt;
}

std::optional<std::string> read_text_file(std::string_view path) {
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Each streamed completion holds two descriptors (client and upstream). The soft limit is often
// 1024 while the hard one is far higher; raise it, and say so if MAX_CONNECTIONS still cannot fit.
void raise_descriptor_limit(const config& cfg) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  const auto needed = 2 * static_cast<rlim_t>(cfg.max_connections) + 64;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed) {
    log_event("warn", "descriptor_limit",
              {{"limit", std::to_string(lim.rlim_cur)}, {"wanted", std::to_string(needed)},
               {"hint", "raise ulimit -n or lower MAX_CONNECTIONS"}});
  }
}

// Waits until no client connection is open on any loop, or until `deadline`. Polls: the drain is
// rare and short, so a timer is simpler than wiring a completion signal through every connection.
awaitable<void> connections_closed(app& a, asio::steady_timer& tick,
                                   std::chrono::steady_clock::time_point deadline) {
  while (a.connections().open > 0 && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(std::chrono::milliseconds(50));
    co_await tick.async_wait(nothrow_awaitable);
  }
}

// Stops accepting, lets requests in flight finish within SHUTDOWN_GRACE_MS, then cuts the rest
// short: each ends with a 503 server_shutting_down (as an error event if it is streaming), so a
// client learns why and may retry elsewhere.
awaitable<void> shut_down(app& a, std::chrono::milliseconds grace) {
  log_event("info", "shutdown",
            {{"phase", "draining"}, {"grace_ms", std::to_string(grace.count())}});
  a.stop();
  asio::steady_timer tick(a.first().io());
  co_await connections_closed(a, tick, std::chrono::steady_clock::now() + grace);
  if (a.connections().open > 0) {
    log_event("warn", "shutdown",
              {{"phase", "cutting"}, {"completions", std::to_string(a.completions_in_flight())}});
    a.cut_in_flight();
    co_await connections_closed(a, tick, std::chrono::steady_clock::now() + cut_wait);
  }
  log_event("info", "shutdown", {{"phase", "done"}});
  a.stop_loops();
}

}  // namespace

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // glibc raises its mmap threshold to the largest block freed so far (up to 32 MiB); after one
  // big upstream event (up to 8 MiB) or message (up to 32 MiB), later big buffers come from the
  // heap and its pages stay with the process once the stream ends. A fixed threshold keeps big
  // buffers in their own mappings, returned when freed, so memory goes back down after a burst.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (wants_health_probe(args)) return run_health_probe(args);
  auto parsed = parse_config(read_env, args, read_text_file);
  if (!parsed) {
    std::fprintf(stderr, "zai-proxy: %s\n", parsed.error().c_str());
    return 2;
  }
  if (parsed->show_help) {
    std::fputs(help_text().c_str(), stdout);
    std::fwrite(health_probe_help.data(), 1, health_probe_help.size(), stdout);
    return 0;
  }
  config cfg = std::move(*parsed);
  set_log_level(cfg.log_level);
  const std::size_t workers = cfg.workers > 0 ? cfg.workers : usable_cores();

  raise_descriptor_limit(cfg);
  app a(cfg, workers);
  const auto port = a.start();
  if (!port) {
    std::fprintf(stderr, "zai-proxy: cannot listen on %s:%u: %s\n", cfg.host.c_str(), cfg.port,
                 port.error().message().c_str());
    return 1;
  }
  // Before the line that tells a supervisor (or a test) it may signal us.
  asio::signal_set signals(a.first().io(), SIGINT, SIGTERM);
  signals.async_wait([&](const error_code& ec, int) {
    if (ec) return;
    asio::co_spawn(a.first().io(), shut_down(a, cfg.shutdown_grace), asio::detached);
  });
  log_event("info", "listening",
            {{"address", cfg.host + ":" + std::to_string(*port)},
             {"upstream", cfg.zai_base_url.origin()},
             {"pool_size", std::to_string(cfg.token_pool_size)},
             {"workers", std::to_string(workers)}});

  a.run();
  return 0;
}
