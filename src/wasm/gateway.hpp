// What one Worker isolate keeps between requests, inside its wasm instance: the validated
// configuration, the guest-token pool, the upstream's front-end version, the random source for
// ids, and the completions in progress. It is the Worker's counterpart of the native server's
// `app` + `token_service`, sans I/O: it says which upstream requests to make (mint a guest token,
// scrape the front page) and is told what they answered; JavaScript does the fetching and passes
// the time into every call. Time is milliseconds since the epoch (Date.now()).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/api/front_door.hpp"
#include "core/ids.hpp"
#include "core/zai/signature.hpp"
#include "core/pool/token_pool.hpp"
#include "core/zai/request.hpp"
#include "wasm/record.hpp"

namespace zai::wasm {

class completion_flow;

// The HMAC-SHA256 the signature needs, from the host (the Worker's node:crypto).
hmac_digest host_hmac_sha256(std::string_view key, std::string_view message);

token_pool::time_point pool_time(double now_ms);

class gateway {
 public:
  gateway(config cfg, std::uint64_t seed);
  ~gateway();

  const config& cfg() const { return cfg_; }
  token_pool& pool() { return pool_; }
  waf_breaker& breaker() { return breaker_; }
  const std::string& fe_version() const { return fe_version_; }

  // Upstream requests due now, appended to `out` as jobs: [kind ("mint" | "scrape"), slot,
  // method, url, body, header count, name, value, …]. Returns how many.
  int housekeeping(double now_ms, record_writer& out);
  void mint_done(std::size_t slot, unsigned status, std::string_view body, double now_ms);
  void scrape_done(unsigned status, std::string_view html, double now_ms);
  // A 426/405 said the front-end version is stale: scrape again at the next housekeeping.
  void refresh_fe_version(double now_ms);
  // A token is being minted, or a slot's mint is due now (a 401 just emptied it): a request that
  // found no token may wait for it.
  bool mint_under_way(double now_ms) const;

  std::string random_uuid() { return ids_.uuid(); }
  std::string completion_id() { return ids_.completion_id(); }
  std::string upstream_url(const upstream_request& r) const;

  // The front door, then the body: either a whole response (returns 0, `out` holds it as
  // [status, body, name, value, …]) or a new completion's handle (> 0).
  int begin(const front_request& request, std::string_view body, bool body_too_large,
            double now_ms, record_writer& out);
  completion_flow* completion(int handle);
  void drop(int handle, double now_ms);

 private:
  config cfg_;
  token_pool pool_;
  waf_breaker breaker_;  // per isolate: each isolate learns of a block on its own
  std::string fe_version_;
  bool scraping_ = false;
  double next_scrape_ms_ = 0;  // 0: scrape at the first housekeeping (when not configured)
  id_generator ids_;
  int next_handle_ = 1;
  std::map<int, std::unique_ptr<completion_flow>> completions_;
};

void write_response(const plain_response& r, record_writer& out);

}  // namespace zai::wasm
