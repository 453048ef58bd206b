#include "server/respond.hpp"

#include <tuple>

#include "core/config.hpp"

namespace zai::server {
namespace {

std::string_view origin_of(const http::request<http::string_body>& request) {
  const auto origin = request[http::field::origin];
  return {origin.data(), origin.size()};
}

}  // namespace

http::response<http::string_body> to_beast(const exchange& ex, plain_response answer) {
  http::response<http::string_body> r(static_cast<http::status>(answer.status),
                                      ex.request.version());
  r.set(http::field::server, "zai-proxy");
  if (!answer.body.empty()) r.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : answer.headers) r.set(name, value);
  r.body() = std::move(answer.body);
  r.keep_alive(ex.request.keep_alive() && !ex.shutting_down);
  r.prepare_payload();
  return r;
}

http::response<http::string_body> json_response(const exchange& ex, const config& cfg,
                                                http::status status, std::string body) {
  return to_beast(ex, json_answer(static_cast<int>(status), std::move(body),
                                  origin_of(ex.request), cfg));
}

http::response<http::string_body> error_response(const exchange& ex, const config& cfg,
                                                 const api_error& error) {
  return to_beast(ex, error_answer(error, origin_of(ex.request), cfg));
}

awaitable<bool> send(exchange& ex, http::response<http::string_body> response) {
  ex.status = response.result_int();
  if (ex.first_byte == std::chrono::steady_clock::time_point{}) {
    ex.first_byte = std::chrono::steady_clock::now();
  }
  const bool keep = response.keep_alive();
  ex.stream.expires_after(std::chrono::seconds(30));
  error_code ec;
  if (ex.request.method() == http::verb::head) {
    // A HEAD answer is the GET answer's header (Content-Length included) without the body; a
    // body here would be read as the start of the next response on this connection.
    http::response_serializer<http::string_body> header_only(response);
    std::tie(ec, std::ignore) =
        co_await http::async_write_header(ex.stream, header_only, nothrow_awaitable);
  } else {
    std::tie(ec, std::ignore) = co_await http::async_write(ex.stream, response, nothrow_awaitable);
  }
  ex.stream.expires_never();
  co_return keep && !ec;
}

}  // namespace zai::server
