// The circuit breaker for the upstream's firewall. An Aliyun WAF block (HTTP 405 with an HTML
// page, reference §5) applies to our address, and every further request keeps it alive, so after
// one block the proxy stops calling the upstream for a cool-down and answers 503 with
// Retry-After instead. When the cool-down ends one request goes through as the probe: if it is
// blocked again the cool-down doubles (up to a ceiling), anything else closes the breaker and
// resets the cool-down. Pure bookkeeping like the token pool: the caller passes `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace zai {

struct waf_breaker_options {
  std::chrono::steady_clock::duration cooldown = std::chrono::seconds(10);  // WAF_COOLDOWN_MS
  std::chrono::steady_clock::duration max_cooldown = std::chrono::minutes(5);
};

class waf_breaker {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  enum class state { closed, open, probing };

  // May a request call the upstream now? `probe`: it is the one that tests a block that may
  // have lifted, and must report back with blocked(), passed() or abandoned().
  struct admission {
    bool allowed = true;
    bool probe = false;
    std::chrono::seconds retry_after{0};  // when refused: when to come back (at least 1 s)
  };

  explicit waf_breaker(waf_breaker_options options = {});

  admission admit(time_point now);

  // The upstream answered with the WAF's block page. Opens the breaker (a probe's block doubles
  // the cool-down); a request admitted before the breaker opened changes nothing more.
  void blocked(time_point now, bool probe);
  // The upstream answered with anything else: the block is over, if there was one. Only the
  // probe closes an open breaker; an older request's answer says nothing about now.
  void passed(bool probe);
  // The probe ended without an answer (transport failure, client gone): the next request probes.
  void abandoned(time_point now, bool probe);

  state current() const { return state_; }
  duration cooldown() const { return cooldown_; }
  std::uint64_t blocks() const { return blocks_; }  // block pages seen since start
  // Time until a probe may go, rounded up to whole seconds; 0 when closed.
  std::chrono::seconds retry_after(time_point now) const;
  // Exactly how long until a probe may go: 0 when closed, probing or due.
  duration remaining(time_point now) const;

 private:
  void open(time_point now);

  waf_breaker_options options_;
  state state_ = state::closed;
  duration cooldown_;
  time_point reopen_at_{};
  std::uint64_t blocks_ = 0;
};

std::string_view to_string(waf_breaker::state s);

}  // namespace zai
