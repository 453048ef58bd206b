// The proxy's one error vocabulary. Every failure a client can see is an `errc`; one table maps it
// to the HTTP status, the OpenAI error `type` and `code`, the Anthropic error `type`, whether a
// `Retry-After` header belongs on the response and whether SDKs should retry it (OpenAI's and
// Anthropic's retry 408/409/429/5xx unless told `x-should-retry: false`). `error_body` renders
// OpenAI's shape, `{"error":{"message","type","param","code"}}`; each other surface renders its
// own envelope from the same row (anthropic_messages.hpp), so no code formats errors by hand.
// Fallible core functions return `zai::result<T>` (Boost.System's result with `api_error`), never
// throw.
#pragma once

#include <boost/system/result.hpp>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace zai {

enum class errc {
  invalid_request = 1,   // 400, names the offending `param`
  invalid_json,          // 400, the body is not JSON
  previous_response_not_found,  // 404, previous_response_id names no stored response
  unauthorized,          // 401, missing or wrong client API key
  not_found,             // 404, unknown route
  model_not_found,       // 404, unknown model id
  response_not_found,    // 404, GET /v1/responses/{id} names no stored response
  method_not_allowed,    // 405
  request_timeout,       // 408, the request's header or body did not arrive in time
  request_too_large,     // 413, body over MAX_BODY_BYTES
  headers_too_large,     // 431, headers over MAX_HEADER_BYTES
  model_requires_login,  // 403, the upstream serves this model to logged-in accounts only
  rate_limited,          // 429, the upstream said slow down and no other token could take it
  too_many_streams,      // 429, MAX_CONCURRENT_STREAMS completions are already in flight
  overloaded,            // 503, MAX_CONNECTIONS client connections are already open
  shutting_down,         // 503, the proxy is stopping and SHUTDOWN_GRACE_MS has run out
  no_token_available,    // 503, the guest-token pool has no usable token yet
  captcha_required,      // 503, the upstream wants a captcha and CAPTCHA_PROVIDER_URL is unset
  captcha_failed,        // 503, the provider's captcha was refused (after the one retry)
  upstream_blocked,      // 503, the upstream's WAF blocks us; the breaker waits it out
  upstream_error,        // 502, any other upstream failure (never its HTML)
  upstream_timeout,      // 504, connect / first byte / idle gap timed out
  internal,              // 500, a bug in the proxy
};

// One row of the mapping table. An empty `code` renders as JSON null.
struct error_info {
  errc code;
  int http_status;
  std::string_view type;  // OpenAI's error type
  std::string_view code_text;
  std::string_view anthropic_type;  // Anthropic's error type, for the Messages surface
  std::string_view default_message;
  int default_retry_after_seconds;  // > 0: always send Retry-After (at least this many seconds)
  bool retryable;                   // false: send `x-should-retry: false`
};

// The whole table, one row per errc in declaration order (tests walk it).
std::span<const error_info> error_table();
const error_info& describe(errc code);

struct api_error {
  errc code = errc::internal;
  std::string message;          // empty: the table's default message
  std::string param;            // empty: JSON null
  int retry_after_seconds = 0;  // 0: the table's default (none for most rows)
};

api_error make_error(errc code, std::string message = {}, std::string param = {});

int http_status(const api_error& e);
// Seconds for the `Retry-After` header, or 0 when the response should not carry one.
int retry_after_seconds(const api_error& e);
// `{"error":{"message":…,"type":…,"param":…|null,"code":…|null}}`
std::string error_body(const api_error& e);

// Boost.System's result calls this when `.value()` is used on an error; that is a bug in the
// caller (check `has_value()` and use `*r`), so it raises through boost::throw_exception, which a
// -fno-exceptions build defines to abort.
[[noreturn]] void throw_exception_from_error(const api_error& e, const boost::source_location& loc);

template <class T, class E = api_error>
using result = boost::system::result<T, E>;

// errc as a std::error_code, for the edges that already speak error_code.
const std::error_category& error_category();
std::error_code make_error_code(errc code);

}  // namespace zai

template <>
struct std::is_error_code_enum<zai::errc> : std::true_type {};
