// The request entry point: the core's front door answers everything but a completion (routing,
// CORS preflight, auth, /health, /v1/models); the access log line every request ends with.
#include "core/api/front_door.hpp"
#include "core/api/openai_chat_request.hpp"
#include "server/app.hpp"
#include "server/chat_completions.hpp"
#include "server/log.hpp"
#include "server/respond.hpp"

namespace zai::server {
namespace {

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

void log_access(const exchange& ex) {
  if (!log_enabled(log_level::info)) return;  // formatting it costs a few allocations per request
  using namespace std::chrono;
  const auto now = steady_clock::now();
  const auto total = duration_cast<microseconds>(now - ex.started).count();
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

awaitable<bool> app::handle(exchange& ex) {
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
    if (ex.status == 0) {
      auto r = error_response(ex, cfg_, make_error(errc::internal));
      r.keep_alive(false);
      co_await send(ex, std::move(r));
    }
  }
  log_access(ex);
  co_return keep;
}

awaitable<bool> app::answer(exchange& ex) {
  const auto& req = ex.request;
  const front_request front{sv(req.method_string()), sv(req.target()),
                            sv(req[http::field::authorization]), sv(req[http::field::origin])};
  if (auto answer = answer_front_door(front, cfg_, status())) {
    co_return co_await send(ex, to_beast(ex, std::move(*answer)));
  }

  // POST /v1/chat/completions
  auto parsed = parse_chat_request(req.body());
  if (!parsed) co_return co_await send(ex, error_response(ex, cfg_, parsed.error()));
  ex.model = parsed->model;
  const auto model = resolve_model(cfg_.models, parsed->model);
  if (!model) co_return co_await send(ex, error_response(ex, cfg_, model.error()));
  co_return co_await serve_chat_completion(*this, ex, *parsed, *model);
}

}  // namespace zai::server
