// Writing whole responses the core decided on (front_door.hpp): JSON bodies, OpenAI error objects
// with Retry-After and x-should-retry where the error table says so, CORS on every response.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/api/front_door.hpp"
#include "server/http_server.hpp"

namespace zai::server {

// A response the core decided on, with Server, Content-Type (for a body) and keep-alive added.
http::response<http::string_body> to_beast(const exchange& ex, plain_response answer);

http::response<http::string_body> json_response(const exchange& ex, const config& cfg,
                                                http::status status, std::string body);
http::response<http::string_body> error_response(const exchange& ex, const config& cfg,
                                                 const api_error& error);

// Writes `response`; returns whether the connection may be reused.
awaitable<bool> send(exchange& ex, http::response<http::string_body> response);

}  // namespace zai::server
