#include "core/error.hpp"

#include <array>
#include <boost/json.hpp>
#include <boost/throw_exception.hpp>
#include <system_error>

namespace zai {
namespace {

// 4xx rows use OpenAI's own types and codes where OpenAI has them (`model_not_found`,
// `invalid_api_key`, `rate_limit_exceeded`); the rest name the proxy's situation so a client or an
// operator can tell them apart without parsing the message.
// The Anthropic column follows Anthropic's errors page: its own type where the status has one
// (404 not_found_error, 413 request_too_large, 504 timeout_error), invalid_request_error for other
// 4xx; overloaded_error (Anthropic's 529) for every 503 a retry shortly can fix, api_error for the
// rest, so that Claude Code's "overloaded, retrying" path is never taken for a proxy misconfigured
// without a captcha provider.
constexpr std::array<error_info, 23> table{{
    {errc::invalid_request, 400, "invalid_request_error", "", "invalid_request_error",
     "The request is invalid.", 0, false},
    {errc::invalid_json, 400, "invalid_request_error", "invalid_json", "invalid_request_error",
     "We could not parse the JSON body of your request.", 0, false},
    // OpenAI's code, which clients test for to resend the whole conversation.
    {errc::previous_response_not_found, 404, "invalid_request_error", "previous_response_not_found",
     "not_found_error",
     "The previous response was not found; this proxy keeps responses in memory for a limited "
     "time.",
     0, false},
    {errc::unauthorized, 401, "authentication_error", "invalid_api_key", "authentication_error",
     "Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.", 0, false},
    {errc::not_found, 404, "not_found_error", "unknown_url", "not_found_error",
     "Unknown request URL.", 0, false},
    {errc::model_not_found, 404, "invalid_request_error", "model_not_found", "not_found_error",
     "The model does not exist or you do not have access to it.", 0, false},
    {errc::response_not_found, 404, "invalid_request_error", "response_not_found",
     "not_found_error",
     "No stored response has this id; this proxy keeps responses in memory for a limited time.", 0,
     false},
    {errc::method_not_allowed, 405, "invalid_request_error", "method_not_allowed",
     "invalid_request_error", "This method is not allowed for this URL.", 0, false},
    {errc::request_timeout, 408, "invalid_request_error", "request_timeout",
     "invalid_request_error", "The request was not received in time.", 0, true},
    {errc::request_too_large, 413, "invalid_request_error", "request_too_large",
     "request_too_large", "The request body is too large.", 0, false},
    {errc::headers_too_large, 431, "invalid_request_error", "request_headers_too_large",
     "request_too_large", "The request headers are too large.", 0, false},
    {errc::model_requires_login, 403, "permission_error", "model_requires_login",
     "permission_error",
     "This model is only available to logged-in Z.AI accounts; guest tokens can use glm-4.7.", 0,
     false},
    {errc::rate_limited, 429, "rate_limit_error", "rate_limit_exceeded", "rate_limit_error",
     "The upstream is rate limiting requests; retry later.", 5, true},
    {errc::too_many_streams, 429, "rate_limit_error", "too_many_concurrent_requests",
     "rate_limit_error",
     "The proxy is serving as many completions as it allows at once; retry shortly.", 1, true},
    {errc::overloaded, 503, "server_error", "server_overloaded", "overloaded_error",
     "The proxy has as many open connections as it allows; retry shortly.", 1, true},
    {errc::shutting_down, 503, "server_error", "server_shutting_down", "overloaded_error",
     "The proxy is shutting down and could not finish this request; retry it.", 1, true},
    {errc::no_token_available, 503, "server_error", "no_token_available", "overloaded_error",
     "No guest token is ready yet; retry shortly.", 2, true},
    {errc::captcha_required, 503, "server_error", "captcha_required", "api_error",
     "Z.AI requires a captcha for every completion and no captcha provider is configured. The "
     "operator must set CAPTCHA_PROVIDER_URL (see the README).",
     0, false},
    {errc::captcha_failed, 503, "server_error", "captcha_failed", "api_error",
     "Z.AI rejected the captcha from the configured provider.", 0, true},
    {errc::upstream_blocked, 503, "server_error", "upstream_blocked", "overloaded_error",
     "Z.AI's firewall is blocking this proxy; retry later.", 10, true},
    {errc::upstream_error, 502, "server_error", "upstream_error", "api_error",
     "Z.AI returned an error.", 0, true},
    {errc::upstream_timeout, 504, "server_error", "upstream_timeout", "timeout_error",
     "Z.AI did not answer in time.", 0, true},
    {errc::internal, 500, "server_error", "internal_error", "api_error", "Internal proxy error.", 0,
     false},
}};

class zai_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "zai"; }
  std::string message(int value) const override {
    for (const error_info& row : table) {
      if (static_cast<int>(row.code) == value) return std::string(row.default_message);
    }
    return "unknown zai error";
  }
};

}  // namespace

std::span<const error_info> error_table() { return table; }

const error_info& describe(errc code) {
  // The table is in declaration order starting at 1; the loop keeps that an assumption tests check
  // rather than one memory safety depends on.
  for (const error_info& row : table) {
    if (row.code == code) return row;
  }
  return table.back();
}

api_error make_error(errc code, std::string message, std::string param) {
  return api_error{code, std::move(message), std::move(param), 0};
}

int http_status(const api_error& e) { return describe(e.code).http_status; }

int retry_after_seconds(const api_error& e) {
  const error_info& row = describe(e.code);
  if (e.retry_after_seconds > 0) return e.retry_after_seconds;
  return row.default_retry_after_seconds;
}

std::string error_body(const api_error& e) {
  const error_info& row = describe(e.code);
  boost::json::object error;
  error["message"] = e.message.empty() ? row.default_message : std::string_view(e.message);
  error["type"] = row.type;
  if (e.param.empty()) {
    error["param"] = nullptr;
  } else {
    error["param"] = e.param;
  }
  if (row.code_text.empty()) {
    error["code"] = nullptr;
  } else {
    error["code"] = row.code_text;
  }
  boost::json::object body;
  body["error"] = std::move(error);
  return boost::json::serialize(body);
}

void throw_exception_from_error(const api_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::system_error(make_error_code(e.code), e.message), loc);
}

const std::error_category& error_category() {
  static const zai_category category;
  return category;
}

std::error_code make_error_code(errc code) { return {static_cast<int>(code), error_category()}; }

}  // namespace zai
