// What to do after one upstream attempt failed: the single table that turns an upstream HTTP
// status or an in-stream error frame into (a) what happens to the guest token, (b) whether the
// request may be retried — only ever before the client has seen a byte, on a bounded budget —
// and (c) the OpenAI error the client gets if not. Pure, so the native server and the Worker
// share it.
#pragma once

#include <optional>
#include <vector>
#include <string_view>

#include "core/error.hpp"
#include "core/stream/stream_translator.hpp"
#include "core/pool/token_pool.hpp"
#include "core/pool/waf_breaker.hpp"

namespace zai {

// Retries already spent on this client request (each kind is allowed once; in total
// `max_attempts` upstream requests).
struct attempt_budget {
  int attempts = 0;  // upstream requests made so far, including the one being judged
  int max_attempts = 3;
  bool reminted = false;         // a 401 already caused a retry with a fresh token
  bool captcha_retried = false;  // FRONTEND_CAPTCHA_REQUIRED already caused a retry
  bool fe_refreshed = false;     // a 426/405 already caused a front-end version refresh + retry
  bool captcha_provider = false; // CAPTCHA_PROVIDER_URL is configured
};

struct upstream_verdict {
  lease_outcome token = lease_outcome::failure;
  std::optional<int> token_retry_after_seconds;  // for rate_limited
  bool retry = false;
  bool refresh_fe_version = false;  // scrape the front-end version before going on
  bool waf_block = false;  // the WAF's block page: the breaker must hear of it
  // A block may be the stale front-end version (since prod-fe-1.1.93 the upstream answers one
  // with the block page): retry once, but only if the scrape finds a new version.
  bool retry_on_new_version = false;
  api_error error;  // what the client gets when retry is false
};

// A non-200 answer before any stream. `retry_after` is the upstream's Retry-After in seconds.
upstream_verdict judge_http_status(unsigned status, std::string_view content_type,
                                   std::string_view body, std::optional<int> retry_after,
                                   attempt_budget& budget);

// An error frame (or a transport fault) that arrived before anything reached the client.
// `went_silent`: the stream was cut by the idle timeout (a timeout, not a truncation).
upstream_verdict judge_stream_error(const upstream_error& error, attempt_budget& budget,
                                    bool went_silent = false);

// The same error once the client's stream has begun: no retry is possible, only the error event.
api_error stream_error_to_api_error(const upstream_error& error);
// The same, for an edge that knows why the stream ended: a stream cut short because the upstream
// went silent past UPSTREAM_IDLE_TIMEOUT_MS is a timeout (504), not a truncation (502).
api_error stream_error_to_api_error(const upstream_error& error, bool went_silent);

// Connection-level failures (refused, reset, TLS, timeouts) before a response header.
upstream_verdict judge_transport_failure(bool timed_out, attempt_budget& budget);

// Tells the WAF breaker how one upstream attempt of client request `request` (a serial) ended:
// `answered` is false when no HTTP answer came at all (transport failure, the client left, no
// token); `verdict` is the failed attempt's verdict, or null when the upstream answered 200. A
// block's error then carries the breaker's wait as its Retry-After, once the breaker is open.
void report_to_breaker(waf_breaker& breaker, waf_breaker::time_point now, bool probe,
                       bool answered, upstream_verdict* verdict, std::uint64_t request);

// The 503 for a request the open breaker keeps from the upstream.
api_error breaker_refusal(std::chrono::seconds retry_after);

// A Retry-After header in its delta-seconds form; nullopt for anything else (an HTTP date, junk).
std::optional<int> parse_retry_after(std::string_view value);

// Until translated output holds text (reasoning or answer), nothing has reached the client, so an
// error frame can still become an HTTP status and the request may be retried.
bool has_text(const std::vector<stream_output>& outputs);
const stream_output* first_error(const std::vector<stream_output>& outputs);

// The WAF's block page (HTTP 405 HTML from the upstream's edge), recognised without parsing HTML.
bool looks_like_waf_block(unsigned status, std::string_view content_type, std::string_view body);

}  // namespace zai
