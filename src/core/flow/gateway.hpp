// What the proxy keeps between requests — in one process (the native server) or in one Worker
// isolate — and the door every request comes in by: the validated configuration, the guest-token
// pool, the WAF breaker, the upstream's front-end version, the random source for ids, and the
// count of completions in flight. It is sans I/O: it says which upstream requests are due (mint a
// guest token, scrape the front page) and is told what they answered; the host fetches and
// passes the time into every call. One gateway serves many completion flows (completion_flow.hpp),
// which take their tokens, breaker admissions and front-end version from it.
//
// A host that runs flows on several threads (the native server's event loops) gives the gateway a
// lock, which every public method takes; the flows reach the shared state only through those
// methods. The Worker runs one isolate on one thread and gives none (wasm32 has no threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/front_door.hpp"
#include "core/api/response_store.hpp"
#include "core/api/surface.hpp"
#include "core/config.hpp"
#include "core/flow/upstream_verdict.hpp"
#include "core/ids.hpp"
#include "core/pool/token_pool.hpp"
#include "core/pool/waf_breaker.hpp"
#include "core/zai/request.hpp"
#include "core/zai/signature.hpp"

namespace zai {

class completion_flow;

// A moment as both clocks see it: the steady clock for the pool's and the breaker's deadlines,
// the wall clock for signatures and `created` times. The Worker has one clock and passes it as
// both (steady_at).
struct instant {
  std::chrono::steady_clock::time_point steady{};
  std::int64_t unix_ms = 0;
};

instant steady_at(std::int64_t unix_ms);  // the Worker's: steady time counted from the epoch

// An upstream request the host makes for the gateway, outside any completion.
struct upkeep_job {
  enum class kind { mint, scrape } what = kind::mint;
  std::size_t slot = 0;  // mint: the pool slot to report back
  upstream_request request;
};

// How long a completion waits for a guest token being minted (after a 401, or while the first
// tokens are minted); a mint is one small request.
inline constexpr std::chrono::seconds mint_wait{10};

// The host's mutual exclusion, injected so that the core itself needs no threads: the native
// server implements it with a std::mutex.
class gateway_lock {
 public:
  virtual ~gateway_lock() = default;
  virtual void lock() = 0;
  virtual void unlock() = 0;
};

class gateway {
 public:
  // `lock`: null when one thread makes every call; otherwise it must outlive the gateway.
  gateway(config cfg, std::uint64_t seed, hmac_sha256_fn hmac, gateway_lock* lock = nullptr);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  // Never changes after construction: read without the lock.
  const config& cfg() const { return cfg_; }
  hmac_sha256_fn hmac() const { return hmac_; }
  bool scrapes_fe_version() const { return cfg_.zai_fe_version.empty(); }
  // The pool and the breaker as they are, for tests (unlocked, read only).
  const token_pool& pool() const { return pool_; }
  const waf_breaker& breaker() const { return breaker_; }

  // A copy: another thread may replace the version meanwhile.
  std::string fe_version() const;
  // The full URL of an upstream request (the Worker fetches URLs; the server sends the target).
  std::string upstream_url(const upstream_request& r) const;

  // Upstream requests due now. Each mint is reported with mint_done (true: a token came), each
  // scrape with scrape_done, whatever happened (status 0 for no answer).
  std::vector<upkeep_job> upkeep(instant now);
  bool mint_done(std::size_t slot, unsigned status, std::string_view body, instant now);
  // True when the scrape found a front-end version other than the one in use.
  bool scrape_done(unsigned status, std::string_view html, instant now);
  // The same for a front page a completion fetched itself (after a 426 or a block page).
  bool front_page_seen(unsigned status, std::string_view html, instant now);
  // When upkeep() next has something to do without a report (the native server's timer).
  std::optional<std::chrono::steady_clock::time_point> next_upkeep(instant now) const;
  // The front-end version is stale (a 426): scrape it at the next upkeep.
  void refresh_fe_version(instant now);
  // A token is being minted, or a slot's mint is due now (a 401 just emptied it): a completion
  // that found no token may wait for it.
  bool mint_under_way(instant now) const;

  // What a completion flow asks of the shared state: the breaker's admission and how an attempt
  // ended (report_to_breaker), a token lease and its release, the pool's hints.
  waf_breaker::admission admit(instant now);
  void report_attempt(instant now, bool probe, bool answered, upstream_verdict* verdict,
                      std::uint64_t serial);
  std::optional<token_lease> lease_token(instant now, std::uint64_t minted_after);
  void release_token(const token_lease& lease, lease_outcome outcome, instant now,
                     std::optional<token_pool::duration> retry_after);
  std::uint64_t token_rejections() const;
  std::chrono::seconds token_retry_after(instant now) const;

  // A surface touches the shared response store only while it parses a request, builds a whole
  // body, or opens and ends a stream (storing the answer): those calls run under the lock.
  std::string whole_body(const surface& api, const completion_meta& meta,
                         const chat_request& request, const answer& a, instant now);
  std::unique_ptr<answer_encoder> stream_encoder(const surface& api, const completion_meta& meta,
                                                 const chat_request& request, instant now);

  // The front door (routing, auth, CORS, the small endpoints), then the body. Either a whole
  // response or a completion for the host to drive.
  struct opened {
    std::optional<plain_response> response{};
    std::unique_ptr<completion_flow> flow{};
  };
  opened open(const front_request& request, std::string_view body, bool body_too_large,
              instant now);

  front_status status(instant now) const;
  std::size_t completions_in_flight() const;

  std::string random_uuid();
  std::string random_id(std::string_view prefix);
  std::uint64_t random_bits();
  std::uint64_t next_serial();

 private:
  friend class completion_flow;
  class locker;  // takes lock_ for one scope, if there is one
  class locked_encoder;

  // A completion flow ends: MAX_CONCURRENT_STREAMS counts it out (open() counted it in).
  void completion_over();

  front_status status_locked(instant now) const;
  surface_context context(instant now) {
    return {cfg_, &responses_, static_cast<double>(now.unix_ms)};
  }
  plain_response count_tokens(const front_request& request, std::string_view body) const;
  plain_response stored_response(const front_request& request, instant now);

  config cfg_;
  gateway_lock* lock_;
  hmac_sha256_fn hmac_;
  token_pool pool_;
  waf_breaker breaker_;
  response_store responses_;  // the Responses API's store: per process, per isolate
  std::string fe_version_;
  bool scraping_ = false;
  std::chrono::steady_clock::time_point next_scrape_{};  // epoch: scrape at the first upkeep
  id_generator ids_;
  std::uint64_t serial_ = 0;
  std::size_t in_flight_ = 0;
};

// The captcha provider's answer, 200 {"captcha_verify_param":"<value>"}, or nothing.
std::optional<std::string> captcha_value(unsigned status, std::string_view body);

}  // namespace zai
