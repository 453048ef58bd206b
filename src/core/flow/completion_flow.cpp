#include "core/flow/completion_flow.hpp"

#include "core/zai/request.hpp"

namespace zai {
namespace {

const api_error& shutdown_cut() {
  static const api_error e = make_error(errc::shutting_down);
  return e;
}

std::chrono::milliseconds until(std::chrono::steady_clock::time_point deadline,
                                std::chrono::steady_clock::time_point now) {
  return std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
}

// Frees what the upstream request holds. Not `= {}`: a std::string's move assignment from an
// empty (short) string copies it and keeps the old capacity, so the 3 KB would stay.
void free_request(upstream_request& r) {
  const upstream_request gone = std::move(r);
  r = upstream_request{};
}

}  // namespace

completion_flow::completion_flow(gateway& g, const surface& api, chat_request request,
                                 resolved_model model, std::string origin, instant now)
    : gateway_(g),
      api_(api),
      request_(std::move(request)),
      model_(std::move(model)),
      origin_(std::move(origin)),
      serial_(g.next_serial()) {
  if (!request_.tools.empty()) {
    nonce_ = make_tool_nonce(g.random_bits());
    parser_ = std::make_unique<tool_call_parser>(request_, nonce_);
  }
  prompt_ = upstream_prompt(request_, {nonce_});
  meta_.id = g.random_id(api_.id_prefix());
  meta_.created = now.unix_ms / 1000;
  meta_.model = request_.model;
  meta_.prompt_tokens = estimate_usage(prompt_.size(), 0).prompt_tokens;
  budget_.captcha_provider = g.cfg().captcha_provider_url.has_value();
  last_now_ = now;
}

completion_flow::~completion_flow() {
  if (state_ != state::over) abandon(last_now_);
  gateway_.completion_over();
}

action completion_flow::next(instant now) {
  last_now_ = now;
  out_.clear();
  switch (state_) {
    case state::admitting: return admit(now);
    case state::acquiring: return acquire(now);
    case state::opening:
    case state::streaming:
    case state::collecting: return after_input(now);
    default: return out_of_turn("next", now);
  }
}

// An attempt starts: while the upstream's firewall blocks us, no request reaches it but the
// breaker's probe.
action completion_flow::admit(instant now) {
  if (cut_) return fail(shutdown_cut(), now);
  const auto admission = gateway_.admit(now);
  if (!admission.allowed) return fail(breaker_refusal(admission.retry_after), now);
  probe_ = admission.probe;
  answered_ = false;
  reported_ = false;
  ++budget_.attempts;
  wait_until_ = now.steady + mint_wait;
  state_ = state::acquiring;
  return acquire(now);
}

action completion_flow::acquire(instant now) {
  if (cut_) return fail(shutdown_cut(), now);
  if (auto lease = gateway_.lease_token(now, fresh_after_)) {
    lease_ = std::move(lease);
    pool_slot_ = static_cast<int>(lease_->slot);
    if (budget_.captcha_provider) {
      state_ = state::awaiting_captcha;
      return action::captcha;
    }
    return send_upstream(std::nullopt, now);
  }
  // A token being minted now (the re-mint after a 401, shared by every request that saw the
  // dead token, or the first tokens) is worth a short wait; a pool that is only resting is not.
  if (gateway_.mint_under_way(now) && now.steady < wait_until_) {
    wait_ = until(wait_until_, now.steady);
    return action::wait_token;
  }
  report(nullptr, now);
  // A retry that found no token answers with the failure that caused it (a 429 on every token
  // is the upstream's rate limit, not an empty pool), except after a 401, whose own failure was
  // only that the fresh token did not arrive.
  if (retrying_ && retrying_->token != lease_outcome::unauthorized) {
    return fail(retrying_->error, now);
  }
  api_error e = make_error(errc::no_token_available);
  e.retry_after_seconds = static_cast<int>(gateway_.token_retry_after(now).count());
  return fail(e, now);
}

action completion_flow::on_captcha(unsigned status, std::string_view body, instant now) {
  last_now_ = now;
  out_.clear();
  if (state_ != state::awaiting_captcha) return out_of_turn("on_captcha", now);
  if (cut_) return fail(shutdown_cut(), now);
  const auto value = captcha_value(status, body);
  std::optional<std::string_view> view;
  if (value) view = *value;
  return send_upstream(view, now);
}

action completion_flow::send_upstream(std::optional<std::string_view> captcha, instant now) {
  const request_ids ids{gateway_.random_uuid(), gateway_.random_uuid(), gateway_.random_uuid(),
                        gateway_.random_uuid()};
  auto up = build_completion_request({request_, model_, gateway_.cfg(), lease_->token, ids,
                                      static_cast<std::uint64_t>(now.unix_ms),
                                      gateway_.fe_version(), captcha, gateway_.hmac(), prompt_});
  if (!up) {
    upstream_verdict v;
    v.token = lease_outcome::ok;
    v.error = up.error();
    return judge(std::move(v), now);
  }
  upstream_ = std::move(*up);
  state_ = state::fetching;
  return action::fetch;
}

action completion_flow::on_response(unsigned status, std::string_view content_type,
                                    std::string_view retry_after, std::string_view body,
                                    instant now) {
  last_now_ = now;
  out_.clear();
  if (state_ != state::fetching) return out_of_turn("on_response", now);
  free_request(upstream_);  // sent: a paced stream must not hold its 3 KB for its whole life
  answered_ = true;
  if (status == 200) {
    state_ = state::opening;
    translator_.emplace();
    pending_.clear();
    upstream_ended_ = went_silent_ = false;
    return action::read;
  }
  return judge(judge_http_status(status, content_type, body, parse_retry_after(retry_after),
                                 budget_),
               now);
}

action completion_flow::on_failure(bool timed_out, instant now) {
  last_now_ = now;
  out_.clear();
  if (state_ != state::fetching) return out_of_turn("on_failure", now);
  free_request(upstream_);
  return judge(judge_transport_failure(timed_out, budget_), now);
}

// One failed attempt: tell the breaker and the pool, refresh the front-end version first if
// the failure says it is stale, then retry while the client has seen nothing, or fail.
action completion_flow::judge(upstream_verdict v, instant now) {
  report(&v, now);
  release(v.token, v.token_retry_after_seconds, now);
  if (v.token == lease_outcome::unauthorized) fresh_after_ = gateway_.token_rejections();
  if (v.refresh_fe_version && !cut_ && gateway_.scrapes_fe_version()) {
    refreshing_ = std::move(v);
    upstream_ = build_front_page_request(gateway_.cfg());
    state_ = state::refreshing;
    return action::refresh_version;
  }
  return retry_or_fail(std::move(v), false, now);
}

action completion_flow::on_front_page(unsigned status, std::string_view html, instant now) {
  last_now_ = now;
  out_.clear();
  if (state_ != state::refreshing || !refreshing_) return out_of_turn("on_front_page", now);
  free_request(upstream_);
  const bool changed = gateway_.front_page_seen(status, html, now);
  upstream_verdict v = std::move(*refreshing_);
  refreshing_.reset();
  return retry_or_fail(std::move(v), changed, now);
}

action completion_flow::retry_or_fail(upstream_verdict v, bool new_version, instant now) {
  const bool retry = v.retry || (v.retry_on_new_version && new_version);
  if (retry && !cut_) {
    retrying_ = std::move(v);
    state_ = state::admitting;
    return admit(now);
  }
  return fail(v.error, now);
}

void completion_flow::feed(std::string_view body_bytes) {
  if (!translator_ || upstream_ended_) return;
  translator_->feed(body_bytes, pending_);
}

action completion_flow::on_end(bool went_silent, instant now) {
  last_now_ = now;
  out_.clear();
  if (!translator_ || upstream_ended_) return out_of_turn("on_end", now);
  upstream_ended_ = true;
  went_silent_ = went_silent;
  translator_->finish(pending_);
  return after_input(now);
}

action completion_flow::after_input(instant now) {
  if (state_ == state::streaming) return relay(now);
  if (state_ == state::collecting) return collect(now);
  if (state_ != state::opening) return out_of_turn("after_input", now);
  // Until the first text, an error frame can still become a proper HTTP status and a retry.
  if (!upstream_ended_ && !translator_->ended() && !has_text(pending_)) return action::read;
  const stream_output* err = first_error(pending_);
  if (err && !has_text(pending_)) {
    return judge(judge_stream_error(err->error, budget_, went_silent_), now);
  }
  report(nullptr, now);
  state_ = request_.stream ? state::streaming : state::collecting;
  return request_.stream ? relay(now) : collect(now);
}

// Relays what the translator produced as the surface's events. The head goes out with the
// first of them (unless a keep-alive sent it earlier), and the end of the stream with the last,
// so an answer that arrives at once costs the host one write.
action completion_flow::relay(instant now) {
  const bool start = !head_committed_;
  if (start) start_encoder(out_);
  encode_outputs();
  if (start) return action::stream_start;
  if (stream_over_) return end(now);
  if (!out_.empty()) return action::write;
  if (missed_call_) return retry_for_call(now);
  // A paced stream spends its life waiting for the next event: hold no buffers meanwhile.
  std::string().swap(out_);
  std::vector<stream_output>().swap(pending_);
  return action::read;
}

action completion_flow::collect(instant now) {
  if (!translator_->ended() && !upstream_ended_) {
    for (const stream_output& o : pending_) {
      if (o.what == stream_output::kind::content) content_bytes_ += o.text.size();
    }
    pending_.clear();  // the text is the translator's final text, read at the end
    return action::read;
  }
  std::optional<finish_reason> finish;
  for (const stream_output& o : pending_) {
    // A non-stream request never returns a truncated answer as success.
    if (o.what == stream_output::kind::error) return fail(client_error(o.error), now);
    if (o.what == stream_output::kind::finished) finish = o.finish;
  }
  if (!finish) {
    return fail(make_error(errc::upstream_error, "The upstream stream ended before it was done."),
                now);
  }
  answer a = collected(*finish);
  if (missed_call_) return retry_for_call(now);
  response_ =
      json_answer(200, gateway_.whole_body(api_, meta_, request_, a, now), origin_, gateway_.cfg());
  release(lease_outcome::ok, std::nullopt, now);
  state_ = state::over;
  return action::respond;
}

action completion_flow::on_quiet(instant now) {
  last_now_ = now;
  if (!request_.stream || state_ == state::over) return action::none;
  out_.clear();
  const bool start = !head_committed_;
  if (start) start_encoder(out_);
  encoder_->keep_alive(out_);
  return start ? action::stream_start : action::write;
}

void completion_flow::start_encoder(std::string& out) {
  encoder_ = gateway_.stream_encoder(api_, meta_, request_, last_now_);
  encoder_->open(out);
  head_committed_ = true;
}

action completion_flow::fail(const api_error& e, instant now) {
  // Whatever failed after a shutdown cut failed because of it.
  const api_error& why = cut_ ? shutdown_cut() : e;
  report(nullptr, now);
  release(lease_outcome::ok, std::nullopt, now);
  if (head_committed_) {
    out_.clear();
    encoder_->event({.what = answer_event::kind::error, .error = why}, out_);
    stream_over_ = true;
    return end(now);
  }
  state_ = state::over;
  response_ = error_answer(why, origin_, gateway_.cfg(), &api_);
  return action::respond;
}

action completion_flow::end(instant now) {
  release(lease_outcome::ok, std::nullopt, now);
  state_ = state::over;
  return action::end_stream;
}

action completion_flow::out_of_turn(std::string_view call, instant now) {
  return fail(make_error(errc::internal,
                         "The host called " + std::string(call) + "() out of turn."),
              now);
}

void completion_flow::cut() { cut_ = true; }

void completion_flow::abandon(instant now) {
  report(nullptr, now);
  release(lease_outcome::ok, std::nullopt, now);
  state_ = state::over;
}

void completion_flow::release(lease_outcome outcome, std::optional<int> retry_after_seconds,
                              instant now) {
  if (!lease_) return;
  std::optional<token_pool::duration> hint;
  if (retry_after_seconds) hint = std::chrono::seconds(*retry_after_seconds);
  gateway_.release_token(*lease_, outcome, now, hint);
  lease_.reset();
}

void completion_flow::report(upstream_verdict* verdict, instant now) {
  if (reported_) return;
  reported_ = true;
  gateway_.report_attempt(now, probe_, answered_, verdict, serial_);
}

// The client's error for a failed stream: a stream cut short by the idle timeout is the
// upstream going silent (a timeout, not a truncation); one cut by the shutdown is the shutdown.
api_error completion_flow::client_error(const upstream_error& e) const {
  if (cut_) return shutdown_cut();
  return stream_error_to_api_error(e, went_silent_);
}

token_usage completion_flow::final_usage() const {
  const token_usage u = translator_->usage();
  if (u.present) return u;
  return estimate_usage(prompt_.size(), content_bytes_);
}

header_list completion_flow::stream_head() const { return stream_headers(origin_, gateway_.cfg()); }

std::string completion_flow::captcha_url() const {
  const auto& url = *gateway_.cfg().captcha_provider_url;
  return url.origin() + url.target();
}

}  // namespace zai
