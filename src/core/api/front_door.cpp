#include "core/api/front_door.hpp"

#include <array>

#include "core/api/anthropic_messages.hpp"
#include "core/api/openai_chat.hpp"
#include "core/api/openai_responses.hpp"
#include "core/json_text.hpp"
#include "core/models.hpp"

namespace zai {
namespace {

// One row per (path, method). `api` names the client surface that speaks on the path: the wire
// format of its completions and of every error there, its 401s and 405s included.
struct route {
  std::string_view path;
  bool prefix;
  std::string_view method;
  route_id id;
  const surface& (*api)();
};

constexpr std::array routes{
    route{"/health", false, "GET", route_id::health, openai_chat_surface},
    route{"/healthz", false, "GET", route_id::live, openai_chat_surface},
    route{"/readyz", false, "GET", route_id::ready, openai_chat_surface},
    route{"/v1/models", false, "GET", route_id::models, openai_chat_surface},
    route{"/v1/models/", true, "GET", route_id::model, openai_chat_surface},
    route{"/v1/chat/completions", false, "POST", route_id::completion, openai_chat_surface},
    route{"/v1/messages", false, "POST", route_id::completion, anthropic_messages_surface},
    route{"/v1/messages/count_tokens", false, "POST", route_id::count_tokens,
          anthropic_messages_surface},
    route{"/v1/responses", false, "POST", route_id::completion, openai_responses_surface},
    route{"/v1/responses/", true, "GET", route_id::stored_response, openai_responses_surface},
};

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

// The key comes as `Authorization: Bearer <key>` (OpenAI clients, Claude Code's
// ANTHROPIC_AUTH_TOKEN) or as `x-api-key: <key>` (Anthropic clients); either may carry it.
key_state check_key(std::string_view authorization, std::string_view api_key,
                    std::span<const std::string> keys) {
  if (authorization.empty() && api_key.empty()) return key_state::missing;
  constexpr std::string_view bearer = "Bearer ";
  std::string_view key = api_key;
  if (!authorization.empty()) {
    if (authorization.size() <= bearer.size() || !authorization.starts_with(bearer)) {
      if (api_key.empty()) return key_state::wrong;
    } else {
      key = authorization.substr(bearer.size());
    }
  }
  bool match = false;
  for (const auto& k : keys) match |= same_secret(key, k);
  return match ? key_state::ok : key_state::wrong;
}

void append_count(std::string& out, std::string_view name, std::size_t value, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(value);
}

}  // namespace

std::string_view request_path(std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (target.size() > 1 && target.back() == '/') target.remove_suffix(1);
  return target;
}

route_match match_route(std::string_view path, std::string_view method) {
  route_match m;
  m.api = &openai_chat_surface();
  for (const auto& r : routes) {
    const bool match = r.prefix ? (path.size() > r.path.size() && path.starts_with(r.path))
                                : path == r.path;
    if (!match) continue;
    m.path_known = true;
    m.api = &r.api();
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.id = r.id;
      return m;
    }
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method == "GET" ? "GET, HEAD" : r.method;
  }
  if (m.path_known) m.allow += ", OPTIONS";
  return m;
}

header_list cors_headers(std::string_view origin, const config& cfg) {
  bool any = false;
  bool listed = false;
  for (const auto& o : cfg.cors_allow_origins) {
    if (o == "*") any = true;
    if (!origin.empty() && o == origin) listed = true;
  }
  header_list h;
  if (any) {
    h.emplace_back("Access-Control-Allow-Origin", "*");
  } else if (listed) {
    h.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    h.emplace_back("Vary", "Origin");
  } else {
    return h;  // an origin we do not serve gets no CORS grant
  }
  h.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  h.emplace_back("Access-Control-Allow-Headers",
                 "Authorization, Content-Type, OpenAI-Organization, OpenAI-Project, "
                 "X-Stainless-Arch, X-Stainless-Lang, X-Stainless-OS, "
                 "X-Stainless-Package-Version, X-Stainless-Retry-Count, X-Stainless-Runtime, "
                 "X-Stainless-Runtime-Version, X-Stainless-Timeout");
  h.emplace_back("Access-Control-Max-Age", "86400");
  return h;
}

header_list error_headers(const api_error& e) {
  header_list h;
  if (const int seconds = retry_after_seconds(e); seconds > 0) {
    h.emplace_back("Retry-After", std::to_string(seconds));
  }
  if (!describe(e.code).retryable) h.emplace_back("x-should-retry", "false");
  return h;
}

header_list stream_headers(std::string_view origin, const config& cfg) {
  header_list h{{"Content-Type", "text/event-stream; charset=utf-8"},
                {"Cache-Control", "no-cache"},
                {"X-Accel-Buffering", "no"}};  // tell reverse proxies not to buffer the stream
  for (auto& c : cors_headers(origin, cfg)) h.push_back(std::move(c));
  return h;
}

breaker_status describe_breaker(const waf_breaker& breaker, waf_breaker::time_point now) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  return {to_string(breaker.current()),
          duration_cast<milliseconds>(breaker.remaining(now)).count(),
          duration_cast<milliseconds>(breaker.cooldown()).count(), breaker.blocks()};
}

std::string health_body(const front_status& status, bool detailed) {
  const token_pool_stats& s = status.pool;
  std::string out = "{\"status\":\"ok\"";
  if (detailed) {
    out += ",\"pool\":{";
    append_count(out, "ready", s.ready, true);
    append_count(out, "total", s.total);
    append_count(out, "busy", s.busy);
    append_count(out, "cooling", s.cooling);
    append_count(out, "benched", s.benched);
    append_count(out, "minting", s.minting);
    append_count(out, "in_flight", s.in_flight);
    out += "},\"fe_version\":";
    append_json_string(out, status.fe_version);
    out += ",\"waf_breaker\":{\"state\":";
    append_json_string(out, status.breaker.state);
    out += ",\"retry_after_ms\":" + std::to_string(status.breaker.retry_after_ms);
    out += ",\"cooldown_ms\":" + std::to_string(status.breaker.cooldown_ms);
    out += ",\"blocks\":" + std::to_string(status.breaker.blocks) + "}";
  }
  out += '}';
  return out;
}

plain_response json_answer(int status, std::string body, std::string_view origin,
                           const config& cfg) {
  return plain_response{status, cors_headers(origin, cfg), std::move(body)};
}

plain_response error_answer(const api_error& e, std::string_view origin, const config& cfg,
                            const surface* api) {
  if (api == nullptr) api = &openai_chat_surface();
  plain_response r = json_answer(http_status(e), api->error_body(e), origin, cfg);
  for (auto& h : error_headers(e)) r.headers.push_back(std::move(h));
  return r;
}

front_answer answer_front_door(const front_request& request, const config& cfg,
                               const front_status& status) {
  const auto path = request_path(request.target);
  if (request.method == "OPTIONS") return {json_answer(204, "", request.origin, cfg)};

  const route_match route = match_route(path, request.method);
  if (!route.id) {
    if (!route.path_known) {
      return {error_answer(make_error(errc::not_found, "Unknown path: " + std::string(path)),
                           request.origin, cfg)};
    }
    auto r = error_answer(make_error(errc::method_not_allowed), request.origin, cfg, route.api);
    r.headers.emplace_back("Allow", route.allow);
    return {std::move(r)};
  }

  switch (*route.id) {
    case route_id::health:
    case route_id::live:
      return {json_answer(200, health_body(status, route.id == route_id::health), request.origin,
                          cfg)};
    case route_id::ready:
      // Ready means a chat request would find a usable token now.
      return {json_answer(status.pool.ready > 0 ? 200 : 503, health_body(status, true),
                          request.origin, cfg)};
    default: break;
  }

  // /v1/models is served without a key (as the original proxy did); a wrong key still fails.
  const auto key = check_key(request.authorization, request.api_key, cfg.api_keys);
  const bool key_optional = route.id == route_id::models || route.id == route_id::model;
  if (key == key_state::wrong || (key == key_state::missing && !key_optional)) {
    return {error_answer(make_error(errc::unauthorized,
                                    key == key_state::missing
                                        ? "Missing API key: send it as Authorization: Bearer "
                                          "<key> or x-api-key: <key>."
                                        : "Incorrect API key provided."),
                         request.origin, cfg, route.api)};
  }

  if (route.id == route_id::models) {
    return {json_answer(200, models_list_json(cfg.models), request.origin, cfg)};
  }
  if (route.id == route_id::model) {
    const auto id = path.substr(std::string_view("/v1/models/").size());
    auto body = model_object_json(cfg.models, id);
    if (!body) return {error_answer(body.error(), request.origin, cfg)};
    return {json_answer(200, std::move(*body), request.origin, cfg)};
  }
  return {std::nullopt, *route.id, route.api};  // a body route with a good key
}

}  // namespace zai
