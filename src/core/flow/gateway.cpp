#include "core/flow/gateway.hpp"

#include <boost/json/parse.hpp>

#include "core/api/anthropic_messages.hpp"
#include "core/api/openai_responses.hpp"
#include "core/flow/completion_flow.hpp"

namespace zai {
namespace {

constexpr auto fe_refresh_interval = std::chrono::minutes(30);

}  // namespace

class gateway::locker {
 public:
  explicit locker(gateway_lock* lock) : lock_(lock) {
    if (lock_) lock_->lock();
  }
  ~locker() {
    if (lock_) lock_->unlock();
  }
  locker(const locker&) = delete;
  locker& operator=(const locker&) = delete;

 private:
  gateway_lock* lock_;
};

// A stream encoder whose calls that may store the answer (opening the stream and its last
// event) hold the gateway's lock; the events in between touch nothing shared.
class gateway::locked_encoder final : public answer_encoder {
 public:
  locked_encoder(std::unique_ptr<answer_encoder> inner, gateway_lock* lock)
      : inner_(std::move(inner)), lock_(lock) {}
  void open(std::string& out) override {
    const locker held(lock_);
    inner_->open(out);
  }
  void event(const answer_event& e, std::string& out) override {
    if (e.what != answer_event::kind::finished && e.what != answer_event::kind::error) {
      inner_->event(e, out);
      return;
    }
    const locker held(lock_);
    inner_->event(e, out);
  }
  void keep_alive(std::string& out) override { inner_->keep_alive(out); }

 private:
  std::unique_ptr<answer_encoder> inner_;
  gateway_lock* lock_;
};

instant steady_at(std::int64_t unix_ms) {
  return {std::chrono::steady_clock::time_point(std::chrono::milliseconds(unix_ms)), unix_ms};
}

std::optional<std::string> captcha_value(unsigned status, std::string_view body) {
  if (status != 200) return std::nullopt;
  boost::system::error_code ec;
  const auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto* p = value.as_object().if_contains("captcha_verify_param");
  if (!p) return std::nullopt;
  const auto* s = p->if_string();
  if (!s || s->empty()) return std::nullopt;
  return std::string(*s);
}

gateway::gateway(config cfg, std::uint64_t seed, hmac_sha256_fn hmac, gateway_lock* lock)
    : cfg_(std::move(cfg)),
      lock_(lock),
      hmac_(hmac),
      pool_(pool_options(cfg_)),
      breaker_(breaker_options(cfg_)),
      responses_(responses_store_options(cfg_)),
      ids_(seed) {
  fe_version_ = cfg_.zai_fe_version.empty() ? cfg_.zai_fe_version_fallback : cfg_.zai_fe_version;
}

gateway::~gateway() = default;

std::string gateway::upstream_url(const upstream_request& r) const {
  return cfg_.zai_base_url.origin() + r.target;
}

std::string gateway::fe_version() const {
  const locker held(lock_);
  return fe_version_;
}

std::vector<upkeep_job> gateway::upkeep(instant now) {
  const locker held(lock_);
  std::vector<upkeep_job> jobs;
  if (scrapes_fe_version() && !scraping_ && now.steady >= next_scrape_) {
    scraping_ = true;
    jobs.push_back({upkeep_job::kind::scrape, 0, build_front_page_request(cfg_)});
  }
  for (const std::size_t slot : pool_.take_mint_jobs(now.steady)) {
    jobs.push_back({upkeep_job::kind::mint, slot, build_guest_auth_request(cfg_, fe_version_)});
  }
  return jobs;
}

bool gateway::mint_done(std::size_t slot, unsigned status, std::string_view body, instant now) {
  std::optional<guest_token> token;
  if (status == 200) {
    if (auto parsed = parse_guest_auth_response(body)) token = std::move(*parsed);
  }
  const locker held(lock_);
  if (token) {
    pool_.mint_succeeded(slot, std::move(*token), now.steady);
    return true;
  }
  pool_.mint_failed(slot, now.steady);
  return false;
}

bool gateway::scrape_done(unsigned status, std::string_view html, instant now) {
  {
    const locker held(lock_);
    scraping_ = false;
  }
  return front_page_seen(status, html, now);
}

bool gateway::front_page_seen(unsigned status, std::string_view html, instant now) {
  const auto version = status == 200 ? scrape_fe_version(html) : std::nullopt;
  const locker held(lock_);
  next_scrape_ = now.steady + fe_refresh_interval;
  if (!version || *version == fe_version_) return false;
  fe_version_ = *version;
  return true;
}

std::optional<std::chrono::steady_clock::time_point> gateway::next_upkeep(instant now) const {
  const locker held(lock_);
  auto next = pool_.next_deadline(now.steady);
  if (scrapes_fe_version() && !scraping_) {
    const auto scrape = std::max(next_scrape_, now.steady);
    if (!next || scrape < *next) next = scrape;
  }
  return next;
}

void gateway::refresh_fe_version(instant now) {
  const locker held(lock_);
  if (scrapes_fe_version() && !scraping_) next_scrape_ = now.steady;
}

bool gateway::mint_under_way(instant now) const {
  const locker held(lock_);
  const auto s = pool_.stats(now.steady);
  if (s.minting > 0) return true;
  const auto next = pool_.next_deadline(now.steady);
  return s.empty > 0 && next && *next <= now.steady;
}

front_status gateway::status(instant now) const {
  const locker held(lock_);
  return status_locked(now);
}

front_status gateway::status_locked(instant now) const {
  return {pool_.stats(now.steady), fe_version_, describe_breaker(breaker_, now.steady)};
}

std::size_t gateway::completions_in_flight() const {
  const locker held(lock_);
  return in_flight_;
}

void gateway::completion_over() {
  const locker held(lock_);
  --in_flight_;
}

std::string gateway::random_uuid() {
  const locker held(lock_);
  return ids_.uuid();
}

std::string gateway::random_id(std::string_view prefix) {
  const locker held(lock_);
  return ids_.prefixed(prefix);
}

std::uint64_t gateway::random_bits() {
  const locker held(lock_);
  return ids_.bits();
}

std::uint64_t gateway::next_serial() {
  const locker held(lock_);
  return ++serial_;
}

waf_breaker::admission gateway::admit(instant now) {
  const locker held(lock_);
  return breaker_.admit(now.steady);
}

void gateway::report_attempt(instant now, bool probe, bool answered, upstream_verdict* verdict,
                             std::uint64_t serial) {
  const locker held(lock_);
  report_to_breaker(breaker_, now.steady, probe, answered, verdict, serial);
}

std::optional<token_lease> gateway::lease_token(instant now, std::uint64_t minted_after) {
  const locker held(lock_);
  return pool_.acquire(now.steady, minted_after);
}

void gateway::release_token(const token_lease& lease, lease_outcome outcome, instant now,
                            std::optional<token_pool::duration> retry_after) {
  const locker held(lock_);
  pool_.release(lease, outcome, now.steady, retry_after);
}

std::uint64_t gateway::token_rejections() const {
  const locker held(lock_);
  return pool_.rejections();
}

std::chrono::seconds gateway::token_retry_after(instant now) const {
  const locker held(lock_);
  return pool_.retry_after_hint(now.steady);
}

std::string gateway::whole_body(const surface& api, const completion_meta& meta,
                                const chat_request& request, const answer& a, instant now) {
  const locker held(lock_);
  return api.whole(meta, request, a, context(now));
}

std::unique_ptr<answer_encoder> gateway::stream_encoder(const surface& api,
                                                        const completion_meta& meta,
                                                        const chat_request& request, instant now) {
  return std::make_unique<locked_encoder>(api.stream_encoder(meta, request, context(now)), lock_);
}

gateway::opened gateway::open(const front_request& request, std::string_view body,
                              bool body_too_large, instant now) {
  // As every HTTP server does, an oversized body is refused before routing looks at the request
  // (the path still picks the error's envelope).
  if (body_too_large) {
    const auto api = match_route(request_path(request.target), request.method).api;
    return {error_answer(make_error(errc::request_too_large, "Request body is too large."),
                         request.origin, cfg_, api)};
  }
  front_answer front = answer_front_door(request, cfg_, status(now));
  if (front.response) return {std::move(front.response)};
  const surface& api = *front.api;
  if (front.route == route_id::count_tokens) return {count_tokens(request, body)};
  if (front.route == route_id::stored_response) return {stored_response(request, now)};
  auto parsed = [&] {
    const locker held(lock_);  // a continuation reads the response store
    return api.parse(body, context(now));
  }();
  if (!parsed) return {error_answer(parsed.error(), request.origin, cfg_, &api)};
  auto model = resolve_model(cfg_.models, parsed->model);
  if (!model) return {error_answer(model.error(), request.origin, cfg_, &api)};
  // MAX_CONCURRENT_STREAMS: beyond it a request is refused before it takes a token or an
  // upstream call. The flow counts itself out when it ends (completion_over).
  {
    const locker held(lock_);
    if (in_flight_ >= cfg_.max_concurrent_streams) {
      return {error_answer(make_error(errc::too_many_streams), request.origin, cfg_, &api)};
    }
    ++in_flight_;
  }
  return {std::nullopt,
          std::make_unique<completion_flow>(*this, api, std::move(*parsed), std::move(*model),
                                            std::string(request.origin), now)};
}

// An estimate over the text the request would send upstream: the docs call the count an
// estimate, and no tokenizer for GLM is at hand.
plain_response gateway::count_tokens(const front_request& request, std::string_view body) const {
  const surface& api = anthropic_messages_surface();
  auto parsed = parse_count_tokens_request(body);
  if (!parsed) return error_answer(parsed.error(), request.origin, cfg_, &api);
  auto model = resolve_model(cfg_.models, parsed->model);
  if (!model) return error_answer(model.error(), request.origin, cfg_, &api);
  const std::string prompt = upstream_prompt(*parsed, {});
  return json_answer(200, count_tokens_body(estimate_usage(prompt.size(), 0).prompt_tokens),
                     request.origin, cfg_);
}

// GET /v1/responses/{id}: a response kept with `store: true`.
plain_response gateway::stored_response(const front_request& request, instant now) {
  const auto path = request_path(request.target);
  const auto id = path.substr(std::string_view("/v1/responses/").size());
  auto body = [&] {
    const locker held(lock_);
    return retrieve_response(id, context(now));
  }();
  if (!body) return error_answer(body.error(), request.origin, cfg_);
  return json_answer(200, std::move(*body), request.origin, cfg_);
}

}  // namespace zai
