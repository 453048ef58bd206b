#include "wasm/gateway.hpp"

#include "core/api/openai_chat_request.hpp"
#include "wasm/completion_flow.hpp"

namespace zai::wasm {
namespace {

constexpr double fe_refresh_interval_ms = 30 * 60 * 1000;

void add_job(record_writer& out, std::string_view kind, std::size_t slot,
             const upstream_request& r, const std::string& url) {
  out.add(kind);
  out.add(static_cast<std::int64_t>(slot));
  out.add(r.method);
  out.add(url);
  out.add(r.body);
  out.add(static_cast<std::int64_t>(r.headers.size()));
  out.add_headers(r.headers);
}

}  // namespace

token_pool::time_point pool_time(double now_ms) {
  return token_pool::time_point(std::chrono::milliseconds(static_cast<std::int64_t>(now_ms)));
}

void write_response(const plain_response& r, record_writer& out) {
  out.add(r.status);
  out.add(r.body);
  out.add_headers(r.headers);
}

gateway::gateway(config cfg, std::uint64_t seed)
    : cfg_(std::move(cfg)), pool_(pool_options(cfg_)), breaker_(breaker_options(cfg_)), ids_(seed) {
  fe_version_ = cfg_.zai_fe_version.empty() ? cfg_.zai_fe_version_fallback : cfg_.zai_fe_version;
}

gateway::~gateway() = default;

std::string gateway::upstream_url(const upstream_request& r) const {
  return cfg_.zai_base_url.origin() + r.target;
}

int gateway::housekeeping(double now_ms, record_writer& out) {
  int jobs = 0;
  if (cfg_.zai_fe_version.empty() && !scraping_ && now_ms >= next_scrape_ms_) {
    scraping_ = true;
    const auto r = build_front_page_request(cfg_);
    add_job(out, "scrape", 0, r, upstream_url(r));
    ++jobs;
  }
  for (std::size_t slot : pool_.take_mint_jobs(pool_time(now_ms))) {
    const auto r = build_guest_auth_request(cfg_, fe_version_);
    add_job(out, "mint", slot, r, upstream_url(r));
    ++jobs;
  }
  return jobs;
}

void gateway::mint_done(std::size_t slot, unsigned status, std::string_view body, double now_ms) {
  if (status == 200) {
    if (auto token = parse_guest_auth_response(body)) {
      pool_.mint_succeeded(slot, std::move(*token), pool_time(now_ms));
      return;
    }
  }
  pool_.mint_failed(slot, pool_time(now_ms));
}

void gateway::scrape_done(unsigned status, std::string_view html, double now_ms) {
  scraping_ = false;
  next_scrape_ms_ = now_ms + fe_refresh_interval_ms;
  if (status != 200) return;
  if (auto v = scrape_fe_version(html)) fe_version_ = *v;
}

void gateway::refresh_fe_version(double now_ms) {
  if (!cfg_.zai_fe_version.empty() || scraping_) return;
  next_scrape_ms_ = now_ms;
}

bool gateway::mint_under_way(double now_ms) const {
  const auto t = pool_time(now_ms);
  const auto s = pool_.stats(t);
  if (s.minting > 0) return true;
  const auto next = pool_.next_deadline(t);
  return s.empty > 0 && next && *next <= t;
}

int gateway::begin(const front_request& request, std::string_view body, bool body_too_large,
                   double now_ms, record_writer& out) {
  out.clear();
  // As in the native server, an oversized body is refused before routing looks at the request.
  if (body_too_large) {
    write_response(error_answer(make_error(errc::request_too_large, "Request body is too large."),
                                request.origin, cfg_),
                   out);
    return 0;
  }
  if (auto answer = answer_front_door(request, cfg_,
                                        {pool_.stats(pool_time(now_ms)), fe_version_,
                                         describe_breaker(breaker_, pool_time(now_ms))})) {
    write_response(*answer, out);
    return 0;
  }
  auto parsed = parse_chat_request(body);
  if (!parsed) {
    write_response(error_answer(parsed.error(), request.origin, cfg_), out);
    return 0;
  }
  auto model = resolve_model(cfg_.models, parsed->model);
  if (!model) {
    write_response(error_answer(model.error(), request.origin, cfg_), out);
    return 0;
  }
  // MAX_CONCURRENT_STREAMS counts the isolate's completions, as the native server counts its
  // process's: beyond it a request is refused before it takes a token or an upstream call.
  if (completions_.size() >= cfg_.max_concurrent_streams) {
    write_response(error_answer(make_error(errc::too_many_streams), request.origin, cfg_), out);
    return 0;
  }
  const int handle = next_handle_++;
  completions_.emplace(handle, std::make_unique<completion_flow>(*this, std::move(*parsed),
                                                                 std::move(*model),
                                                                 std::string(request.origin),
                                                                 now_ms));
  return handle;
}

completion_flow* gateway::completion(int handle) {
  const auto it = completions_.find(handle);
  return it == completions_.end() ? nullptr : it->second.get();
}

void gateway::drop(int handle, double now_ms) {
  const auto it = completions_.find(handle);
  if (it == completions_.end()) return;
  it->second->abandon(now_ms);
  completions_.erase(it);
}

}  // namespace zai::wasm
