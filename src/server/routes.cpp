// The request entry point: the core's gateway answers everything but a completion (routing,
// CORS preflight, auth, /health, /v1/models, validation), and hands over the completions, which
// the completion driver runs; the access log line every request ends with.
#include "core/api/front_door.hpp"
#include "core/flow/completion_flow.hpp"
#include "server/completion_driver.hpp"
#include "server/log.hpp"
#include "server/worker.hpp"
#include "server/respond.hpp"

namespace zai::server {
namespace {

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

void log_access(const exchange& ex) {
  if (!log_enabled(log_level::info)) return;  // formatting it costs a few allocations per request
  using namespace std::chrono;
  const auto t = steady_clock::now();
  const auto total = duration_cast<microseconds>(t - ex.started).count();
  const auto ttfb = ex.first_byte == steady_clock::time_point{}
                        ? total
                        : duration_cast<microseconds>(ex.first_byte - ex.started).count();
  const auto method = sv(ex.request.method_string());
  const auto path = request_path(sv(ex.request.target()));
  const std::string status = std::to_string(ex.status);
  const std::string slot = std::to_string(ex.pool_slot);
  const std::string ms = std::to_string(static_cast<double>(total) / 1000.0);
  const std::string ttfb_ms = std::to_string(static_cast<double>(ttfb) / 1000.0);
  log_event("info", "request",
            {{"method", method}, {"path", path}, {"status", status}, {"model", ex.model},
             {"pool_slot", slot}, {"latency_ms", ms}, {"ttfb_ms", ttfb_ms}});
}

}  // namespace

awaitable<bool> worker::handle(exchange& ex) {
  // Exceptions are not part of the data path (every expected failure is an error code or an
  // api_error); one that escapes anyway (a bug, or memory running out) is caught once, here:
  // the client gets a 500 error object if nothing was sent yet, and never a stack trace.
  bool keep = false;
  bool crashed = false;
  try {
    keep = co_await answer(ex);
  } catch (const std::exception& e) {
    crashed = true;
    log_event("error", "request_failed", {{"what", e.what()}});
  }
  if (crashed) {
    keep = false;
    if (ex.status == 0) co_await send_internal_error(ex);
  }
  log_access(ex);
  co_return keep;
}

// Not a coroutine, nor is send_internal_error: they only pick the coroutine that answers, so
// that nothing of theirs (the gateway's answer, the front request, a response) stays in a frame
// while a completion streams.
awaitable<bool> worker::answer(exchange& ex) {
  const auto& req = ex.request;
  const front_request front{sv(req.method_string()), sv(req.target()),
                            sv(req[http::field::authorization]), sv(req[http::field::origin]),
                            sv(req["x-api-key"])};
  auto opened = app_.core().open(front, req.body(), false, now());
  if (opened.response) return send(ex, to_beast(ex, std::move(*opened.response)));
  // The flow holds what it parsed from the body: a stream need not keep the body too.
  std::string().swap(ex.request.body());
  ex.model = opened.flow->model();
  return serve_completion(*this, ex, std::move(opened.flow));
}

awaitable<bool> worker::send_internal_error(exchange& ex) {
  auto r = error_response(ex, cfg(), make_error(errc::internal));
  r.keep_alive(false);
  return send(ex, std::move(r));
}

}  // namespace zai::server
