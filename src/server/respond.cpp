#include "server/respond.hpp"

#include "core/config.hpp"

namespace zai::server {

void add_cors(http::fields& headers, const http::request<http::string_body>& request,
              const config& cfg) {
  const auto origin = request[http::field::origin];
  const auto& allowed = cfg.cors_allow_origins;
  bool any = false;
  bool listed = false;
  for (const auto& o : allowed) {
    if (o == "*") any = true;
    if (!origin.empty() && o == std::string_view(origin.data(), origin.size())) listed = true;
  }
  if (any) {
    headers.set(http::field::access_control_allow_origin, "*");
  } else if (listed) {
    headers.set(http::field::access_control_allow_origin, origin);
    headers.set(http::field::vary, "Origin");
  } else {
    return;  // an origin we do not serve gets no CORS grant
  }
  headers.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
  headers.set(http::field::access_control_allow_headers,
              "Authorization, Content-Type, OpenAI-Organization, OpenAI-Project, "
              "X-Stainless-Arch, X-Stainless-Lang, X-Stainless-OS, X-Stainless-Package-Version, "
              "X-Stainless-Retry-Count, X-Stainless-Runtime, X-Stainless-Runtime-Version, "
              "X-Stainless-Timeout");
  headers.set(http::field::access_control_max_age, "86400");
}

http::response<http::string_body> json_response(const exchange& ex, const config& cfg,
                                                http::status status, std::string body) {
  http::response<http::string_body> r(status, ex.request.version());
  r.set(http::field::server, "zai-proxy");
  r.set(http::field::content_type, "application/json");
  add_cors(r.base(), ex.request, cfg);
  r.body() = std::move(body);
  r.keep_alive(ex.request.keep_alive() && !ex.shutting_down);
  r.prepare_payload();
  return r;
}

http::response<http::string_body> error_response(const exchange& ex, const config& cfg,
                                                 const api_error& error) {
  auto r = json_response(ex, cfg, static_cast<http::status>(http_status(error)),
                         error_body(error));
  if (const int seconds = retry_after_seconds(error); seconds > 0) {
    r.set(http::field::retry_after, std::to_string(seconds));
  }
  if (!describe(error.code).retryable) r.set("x-should-retry", "false");
  return r;
}

awaitable<bool> send(exchange& ex, http::response<http::string_body> response) {
  ex.status = response.result_int();
  if (ex.first_byte == std::chrono::steady_clock::time_point{}) {
    ex.first_byte = std::chrono::steady_clock::now();
  }
  const bool keep = response.keep_alive();
  ex.stream.expires_after(std::chrono::seconds(30));
  auto [ec, n] = co_await http::async_write(ex.stream, response, nothrow_awaitable);
  ex.stream.expires_never();
  co_return keep && !ec;
}

}  // namespace zai::server
