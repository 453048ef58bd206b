// The routing table and the small endpoints: /health (and its readiness/liveness twins),
// /v1/models, CORS preflight, auth, and the access log line every request ends with.
#include <array>

#include "core/openai_request.hpp"
#include "server/app.hpp"
#include "server/chat_completions.hpp"
#include "server/log.hpp"
#include "server/respond.hpp"

namespace zai::server {
namespace {

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

enum class route_id { health, ready, live, models, model, chat, none };

struct route {
  std::string_view path;
  bool prefix;
  http::verb verb;
  route_id id;
};

constexpr std::array routes{
    route{"/health", false, http::verb::get, route_id::health},
    route{"/healthz", false, http::verb::get, route_id::live},
    route{"/readyz", false, http::verb::get, route_id::ready},
    route{"/v1/models", false, http::verb::get, route_id::models},
    route{"/v1/models/", true, http::verb::get, route_id::model},
    route{"/v1/chat/completions", false, http::verb::post, route_id::chat},
};

// Strips the query string; tolerates a trailing slash.
std::string_view path_of(std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (target.size() > 1 && target.back() == '/') target.remove_suffix(1);
  return target;
}

const route* find_route(std::string_view path, bool& path_known, http::verb verb) {
  path_known = false;
  for (const auto& r : routes) {
    const bool match = r.prefix ? (path.size() > r.path.size() && path.starts_with(r.path))
                                : path == r.path;
    if (!match) continue;
    path_known = true;
    if (r.verb == verb || (verb == http::verb::head && r.verb == http::verb::get)) return &r;
  }
  return nullptr;
}

enum class key_state { missing, wrong, ok };

bool same_secret(std::string_view a, std::string_view b) {
  // Constant time in the length of the presented key, so timing does not reveal a prefix match.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(static_cast<unsigned char>(a[i]) ^ y);
  }
  return diff == 0;
}

key_state check_key(const http::request<http::string_body>& request, const config& cfg) {
  const auto header = sv(request[http::field::authorization]);
  if (header.empty()) return key_state::missing;
  constexpr std::string_view bearer = "Bearer ";
  if (header.size() <= bearer.size() || !header.starts_with(bearer)) return key_state::wrong;
  const auto key = header.substr(bearer.size());
  bool match = false;
  for (const auto& k : cfg.api_keys) match |= same_secret(key, k);
  return match ? key_state::ok : key_state::wrong;
}

std::string health_body(app& a, bool detailed) {
  const auto s = a.tokens().stats();
  std::string out = "{\"status\":\"ok\"";
  if (detailed) {
    out += ",\"pool\":{\"ready\":" + std::to_string(s.ready) +
           ",\"total\":" + std::to_string(s.total) + ",\"busy\":" + std::to_string(s.busy) +
           ",\"cooling\":" + std::to_string(s.cooling) +
           ",\"benched\":" + std::to_string(s.benched) +
           ",\"minting\":" + std::to_string(s.minting) +
           ",\"in_flight\":" + std::to_string(s.in_flight) + "}";
    out += ",\"fe_version\":\"" + a.fe_version() + "\"";
  }
  out += '}';
  return out;
}

void log_access(const exchange& ex) {
  using namespace std::chrono;
  const auto now = steady_clock::now();
  const auto total = duration_cast<microseconds>(now - ex.started).count();
  const auto ttfb = ex.first_byte == steady_clock::time_point{}
                        ? total
                        : duration_cast<microseconds>(ex.first_byte - ex.started).count();
  const auto method = sv(ex.request.method_string());
  const auto path = path_of(sv(ex.request.target()));
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
  const bool keep = co_await [&]() -> awaitable<bool> {
    const auto& req = ex.request;
    const auto path = path_of(sv(req.target()));

    if (req.method() == http::verb::options) {
      auto r = json_response(ex, cfg_, http::status::no_content, "");
      r.body().clear();
      r.erase(http::field::content_type);
      r.prepare_payload();
      co_return co_await send(ex, std::move(r));
    }

    bool path_known = false;
    const route* r = find_route(path, path_known, req.method());
    if (!r) {
      const auto e = path_known ? make_error(errc::method_not_allowed)
                                : make_error(errc::not_found, "Unknown path: " + std::string(path));
      auto response = error_response(ex, cfg_, e);
      if (path_known) response.set(http::field::allow, path == "/v1/chat/completions" ? "POST, OPTIONS" : "GET, HEAD, OPTIONS");
      co_return co_await send(ex, std::move(response));
    }

    switch (r->id) {
      case route_id::health:
      case route_id::live:
        co_return co_await send(
            ex, json_response(ex, cfg_, http::status::ok, health_body(*this, r->id == route_id::health)));
      case route_id::ready: {
        // Ready means a chat request would find a usable token now.
        const bool ready = tokens_.stats().ready > 0;
        co_return co_await send(ex, json_response(ex, cfg_,
                                                  ready ? http::status::ok
                                                        : http::status::service_unavailable,
                                                  health_body(*this, true)));
      }
      default: break;
    }

    // /v1/models is served without a key (as the original proxy did); a wrong key still fails.
    const auto key = check_key(req, cfg_);
    const bool key_optional = r->id == route_id::models || r->id == route_id::model;
    if (key == key_state::wrong || (key == key_state::missing && !key_optional)) {
      auto e = make_error(errc::unauthorized,
                          key == key_state::missing
                              ? "Missing API key: send Authorization: Bearer <key>."
                              : "Incorrect API key provided.");
      co_return co_await send(ex, error_response(ex, cfg_, e));
    }

    if (r->id == route_id::models) {
      co_return co_await send(ex, json_response(ex, cfg_, http::status::ok, models_list_json(cfg_.models)));
    }
    if (r->id == route_id::model) {
      const auto id = path.substr(std::string_view("/v1/models/").size());
      auto body = model_object_json(cfg_.models, id);
      if (!body) co_return co_await send(ex, error_response(ex, cfg_, body.error()));
      co_return co_await send(ex, json_response(ex, cfg_, http::status::ok, std::move(*body)));
    }

    // POST /v1/chat/completions
    auto parsed = parse_chat_request(req.body());
    if (!parsed) co_return co_await send(ex, error_response(ex, cfg_, parsed.error()));
    ex.model = parsed->model;
    const auto model = resolve_model(cfg_.models, parsed->model);
    if (!model) co_return co_await send(ex, error_response(ex, cfg_, model.error()));
    co_return co_await serve_chat_completion(*this, ex, *parsed, *model);
  }();
  log_access(ex);
  co_return keep;
}

}  // namespace zai::server
