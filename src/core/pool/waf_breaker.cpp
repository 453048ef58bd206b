#include "core/pool/waf_breaker.hpp"

#include <algorithm>

namespace zai {
namespace {

// While a probe is out, others are told to come back in a second: the probe decides soon.
constexpr std::chrono::seconds probe_retry_after{1};

std::chrono::seconds ceil_seconds(waf_breaker::duration d) {
  const auto s = std::chrono::ceil<std::chrono::seconds>(d);
  return std::max(s, std::chrono::seconds(1));
}

}  // namespace

waf_breaker::waf_breaker(waf_breaker_options options)
    : options_(options), cooldown_(options.cooldown) {}

waf_breaker::admission waf_breaker::admit(time_point now) {
  switch (state_) {
    case state::closed: return {};
    case state::probing: return {false, false, probe_retry_after};
    case state::open:
      if (now < reopen_at_) return {false, false, ceil_seconds(reopen_at_ - now)};
      state_ = state::probing;
      return {true, true, std::chrono::seconds(0)};
  }
  return {};
}

void waf_breaker::open(time_point now) {
  counted_.clear();
  state_ = state::open;
  reopen_at_ = now + cooldown_;
}

void waf_breaker::blocked(time_point now, bool probe, std::uint64_t request) {
  ++blocks_;
  if (probe && state_ == state::probing) {
    cooldown_ = std::min(cooldown_ * 2, options_.max_cooldown);
    open(now);
    return;
  }
  if (state_ != state::closed) return;
  if (!counted_.empty() && now - first_in_a_row_ > options_.block_window) counted_.clear();
  // A request blocked again (its one retry) is still one request's evidence.
  if (std::find(counted_.begin(), counted_.end(), request) != counted_.end()) return;
  if (counted_.empty()) first_in_a_row_ = now;
  counted_.push_back(request);
  if (counted_.size() >= std::max(1u, options_.blocks_to_open)) open(now);
}

void waf_breaker::passed(bool probe) {
  counted_.clear();
  if (probe && state_ == state::probing) {
    state_ = state::closed;
    cooldown_ = options_.cooldown;
  }
}

void waf_breaker::abandoned(time_point now, bool probe) {
  if (probe && state_ == state::probing) {
    state_ = state::open;
    reopen_at_ = now;
  }
}

std::chrono::seconds waf_breaker::retry_after(time_point now) const {
  switch (state_) {
    case state::closed: return std::chrono::seconds(0);
    case state::probing: return probe_retry_after;
    case state::open: return now < reopen_at_ ? ceil_seconds(reopen_at_ - now) : probe_retry_after;
  }
  return std::chrono::seconds(0);
}

waf_breaker::duration waf_breaker::remaining(time_point now) const {
  if (state_ != state::open || now >= reopen_at_) return duration::zero();
  return reopen_at_ - now;
}

std::string_view to_string(waf_breaker::state s) {
  switch (s) {
    case waf_breaker::state::closed: return "closed";
    case waf_breaker::state::open: return "open";
    case waf_breaker::state::probing: return "probing";
  }
  return "closed";
}

}  // namespace zai
