// The circuit breaker for the upstream's firewall. An Aliyun WAF block (HTTP 405 with an HTML
// page, reference §5) that applies to our address is kept alive by every further request, so
// once blocks show it is the address that is blocked, the proxy stops calling the upstream for a
// cool-down and answers 503 with Retry-After instead. One block is no such evidence: a content
// rule can block one prompt, and one user's prompt must not deny service to everyone. So the
// breaker opens only after `blocks_to_open` blocks in a row (no other answer in between) from
// different requests within `block_window`. When the cool-down ends one request goes through as
// the probe: if it is blocked again the cool-down doubles (up to a ceiling), anything else closes
// the breaker and resets the cool-down. Pure bookkeeping like the token pool: the caller passes
// `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace zai {

struct waf_breaker_options {
  std::chrono::steady_clock::duration cooldown = std::chrono::seconds(10);  // WAF_COOLDOWN_MS
  std::chrono::steady_clock::duration max_cooldown = std::chrono::minutes(5);
  unsigned blocks_to_open = 3;  // WAF_BLOCKS_TO_OPEN: blocks in a row that open it (>= 1)
  std::chrono::steady_clock::duration block_window = std::chrono::minutes(1);  // WAF_BLOCK_WINDOW_MS
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

  // The upstream answered request `request` (a serial number unique to the client request) with
  // the WAF's block page. Counts towards opening the breaker (the same request counts once); a
  // probe's block reopens it with the cool-down doubled; a request admitted before the breaker
  // opened changes nothing more.
  void blocked(time_point now, bool probe, std::uint64_t request);
  // The upstream answered with anything else: the block is over, if there was one, and blocks
  // are no longer in a row. Only the probe closes an open breaker; an older request's answer
  // says nothing about now.
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
  // While closed: the requests whose blocks came in a row so far, and the first one's time.
  std::vector<std::uint64_t> counted_;
  time_point first_in_a_row_{};
};

std::string_view to_string(waf_breaker::state s);

}  // namespace zai
