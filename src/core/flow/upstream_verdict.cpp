#include "core/flow/upstream_verdict.hpp"

#include <charconv>
#include <string>

namespace zai {
namespace {

bool can_retry(const attempt_budget& b) { return b.attempts < b.max_attempts; }

api_error verdict_error(errc code, std::string message, int retry_after = 0) {
  api_error e;
  e.code = code;
  e.message = std::move(message);
  e.retry_after_seconds = retry_after;
  return e;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

bool looks_like_waf_block(unsigned status, std::string_view content_type, std::string_view body) {
  if (status != 405) return false;
  return contains(content_type, "html") || contains(body, "<!doctype") ||
         contains(body, "<!DOCTYPE") || contains(body, "aliyun");
}

upstream_verdict judge_http_status(unsigned status, std::string_view content_type,
                                   std::string_view body, std::optional<int> retry_after,
                                   attempt_budget& budget) {
  upstream_verdict v;
  switch (status) {
    case 401:
      // The guest token is dead: mint a new one for that slot and retry once.
      v.token = lease_outcome::unauthorized;
      if (!budget.reminted && can_retry(budget)) {
        budget.reminted = true;
        v.retry = true;
      }
      v.error = verdict_error(errc::upstream_error,
                           "The upstream rejected the guest token twice; try again.");
      return v;
    case 429:
      v.token = lease_outcome::rate_limited;
      v.token_retry_after_seconds = retry_after;
      v.retry = can_retry(budget);
      v.error = verdict_error(errc::rate_limited, "The upstream is rate limiting; retry later.",
                           retry_after.value_or(10));
      return v;
    case 426:
      v.token = lease_outcome::ok;
      v.refresh_fe_version = true;
      if (!budget.fe_refreshed && can_retry(budget)) {
        budget.fe_refreshed = true;
        v.retry = true;
      }
      v.error = verdict_error(errc::upstream_error,
                           "The upstream says the front-end version is outdated; set "
                           "ZAI_FE_VERSION or let the proxy scrape it.");
      return v;
    default: break;
  }
  if (looks_like_waf_block(status, content_type, body)) {
    // Never retried at once: more requests keep the block alive. Never forwarded as HTML.
    v.token = lease_outcome::ok;
    v.refresh_fe_version = true;
    v.waf_block = true;
    if (!budget.fe_refreshed && can_retry(budget)) {
      budget.fe_refreshed = true;
      v.retry_on_new_version = true;
    }
    v.error = verdict_error(errc::upstream_blocked,
                         "The upstream's firewall blocked the request (HTTP 405); retry later.");
    return v;
  }
  v.token = lease_outcome::failure;
  v.retry = status >= 500 && can_retry(budget);
  v.error = verdict_error(errc::upstream_error,
                       "The upstream answered HTTP " + std::to_string(status) + ".");
  return v;
}

api_error stream_error_to_api_error(const upstream_error& error) {
  switch (error.fault) {
    case upstream_fault::captcha_missing:
      return verdict_error(errc::captcha_required,
                        "The upstream requires a captcha token for every completion and no "
                        "captcha provider is configured; set CAPTCHA_PROVIDER_URL.",
                        30);
    case upstream_fault::captcha_failed:
      return verdict_error(errc::captcha_failed,
                        "The upstream rejected the captcha token from CAPTCHA_PROVIDER_URL.", 30);
    case upstream_fault::model_requires_login:
      return verdict_error(errc::model_requires_login,
                        "This model needs a logged-in Z.AI account; guest tokens can use glm-4.7.");
    case upstream_fault::model_not_found:
      return verdict_error(errc::model_not_found, "The upstream does not know this model.");
    case upstream_fault::client_outdated:
      return verdict_error(errc::upstream_error,
                        "The upstream says the front-end version is outdated.");
    case upstream_fault::concurrency_limited:
      return verdict_error(errc::rate_limited, "The upstream is rate limiting; retry later.", 10);
    case upstream_fault::token_invalid:
      return verdict_error(errc::upstream_error, "The upstream rejected the guest token.");
    case upstream_fault::truncated:
      return verdict_error(errc::upstream_error, "The upstream stream ended before it was done.");
    case upstream_fault::oversize_event:
      return verdict_error(errc::upstream_error, "The upstream sent an oversized stream event.");
    case upstream_fault::malformed_stream:
      return verdict_error(errc::upstream_error, "The upstream sent a malformed stream.");
    case upstream_fault::content_filter:
    case upstream_fault::upstream_internal:
      break;
  }
  return verdict_error(errc::upstream_error, "The upstream failed: " + error.detail);
}

api_error stream_error_to_api_error(const upstream_error& error, bool went_silent) {
  if (went_silent && error.fault == upstream_fault::truncated) {
    return verdict_error(errc::upstream_timeout,
                         "The upstream went silent for longer than UPSTREAM_IDLE_TIMEOUT_MS.");
  }
  return stream_error_to_api_error(error);
}

upstream_verdict judge_stream_error(const upstream_error& error, attempt_budget& budget,
                                    bool went_silent) {
  upstream_verdict v;
  v.error = stream_error_to_api_error(error, went_silent);
  switch (error.fault) {
    case upstream_fault::captcha_missing:
    case upstream_fault::captcha_failed:
      v.token = lease_outcome::ok;
      // With a provider configured, "missing" means the provider gave nothing usable: the
      // client must hear about the provider, not be told to configure one.
      if (budget.captcha_provider) {
        v.error = verdict_error(errc::captcha_failed,
                                "The upstream still requires a captcha: CAPTCHA_PROVIDER_URL gave "
                                "no usable captcha_verify_param, or the upstream rejected it.",
                                30);
      }
      // A fresh captcha can only help when a provider gives one.
      if (budget.captcha_provider && !budget.captcha_retried && can_retry(budget)) {
        budget.captcha_retried = true;
        v.retry = true;
      }
      return v;
    case upstream_fault::token_invalid:
      v.token = lease_outcome::unauthorized;
      if (!budget.reminted && can_retry(budget)) {
        budget.reminted = true;
        v.retry = true;
      }
      return v;
    case upstream_fault::concurrency_limited:
      v.token = lease_outcome::rate_limited;
      v.retry = can_retry(budget);
      return v;
    case upstream_fault::client_outdated:
      v.token = lease_outcome::ok;
      v.refresh_fe_version = true;
      if (!budget.fe_refreshed && can_retry(budget)) {
        budget.fe_refreshed = true;
        v.retry = true;
      }
      return v;
    case upstream_fault::model_requires_login:
    case upstream_fault::model_not_found:
    case upstream_fault::content_filter:
      v.token = lease_outcome::ok;
      return v;
    case upstream_fault::truncated:
    case upstream_fault::oversize_event:
    case upstream_fault::malformed_stream:
    case upstream_fault::upstream_internal:
      v.token = lease_outcome::failure;
      v.retry = can_retry(budget);
      return v;
  }
  return v;
}

upstream_verdict judge_transport_failure(bool timed_out, attempt_budget& budget) {
  upstream_verdict v;
  v.token = lease_outcome::ok;  // the network failed, not the token
  v.retry = false;
  (void)budget;
  v.error = timed_out ? verdict_error(errc::upstream_timeout, "The upstream did not answer in time.")
                      : verdict_error(errc::upstream_error, "Could not reach the upstream.");
  return v;
}

void report_to_breaker(waf_breaker& breaker, waf_breaker::time_point now, bool probe,
                       bool answered, upstream_verdict* verdict, std::uint64_t request) {
  if (!answered) {
    breaker.abandoned(now, probe);
  } else if (verdict && verdict->waf_block) {
    breaker.blocked(now, probe, request);
    if (const auto wait = breaker.retry_after(now); wait.count() > 0) {
      verdict->error.retry_after_seconds = static_cast<int>(wait.count());
    }
  } else {
    breaker.passed(probe);
  }
}

api_error breaker_refusal(std::chrono::seconds retry_after) {
  return verdict_error(errc::upstream_blocked,
                       "The upstream's firewall is blocking this proxy; it will try again in " +
                           std::to_string(retry_after.count()) + " s.",
                       static_cast<int>(retry_after.count()));
}

std::optional<int> parse_retry_after(std::string_view value) {
  int seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc{} || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return seconds;
}

bool has_text(const std::vector<stream_output>& outputs) {
  for (const auto& o : outputs) {
    if (o.what == stream_output::kind::reasoning || o.what == stream_output::kind::content) {
      return true;
    }
  }
  return false;
}

const stream_output* first_error(const std::vector<stream_output>& outputs) {
  for (const auto& o : outputs) {
    if (o.what == stream_output::kind::error) return &o;
  }
  return nullptr;
}

}  // namespace zai
