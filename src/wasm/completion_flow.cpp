#include "wasm/completion_flow.hpp"

#include <boost/json/parse.hpp>

#include "core/api/front_door.hpp"
#include "core/zai/request.hpp"
#include "wasm/gateway.hpp"

namespace zai::wasm {
namespace {

// How long a request waits for a token being minted (after a 401, or while a cold isolate mints
// its first token); a mint is one small request. The native server waits as long.
constexpr double remint_wait_ms = 10'000;

// The provider's answer, 200 {"captcha_verify_param":"<value>"}, or nothing.
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

}  // namespace

completion_flow::completion_flow(gateway& g, chat_request request, resolved_model model,
                                 std::string origin, double now_ms)
    : gateway_(g), request_(std::move(request)), model_(std::move(model)),
      origin_(std::move(origin)) {
  meta_.id = g.completion_id();
  meta_.created = static_cast<std::int64_t>(now_ms / 1000);
  meta_.model = request_.model;
  budget_.captcha_provider = g.cfg().captcha_provider_url.has_value();
}

action completion_flow::next(double now_ms, record_writer& out) {
  out.clear();
  switch (state_) {
    case state::acquiring: return acquire(now_ms, out);
    case state::streaming: return pump(now_ms, out);
    case state::collecting: return collect(now_ms, out);
    case state::opening: return after_input(now_ms, out);
    default: return fail(make_error(errc::internal, "The Worker called next() out of turn."), now_ms, out);
  }
}

action completion_flow::acquire(double now_ms, record_writer& out) {
  if (!attempt_counted_) {
    // While the upstream's firewall blocks us, no request reaches it but the breaker's probe.
    const auto admission = gateway_.breaker().admit(pool_time(now_ms));
    if (!admission.allowed) return fail(breaker_refusal(admission.retry_after), now_ms, out);
    probe_ = admission.probe;
    answered_ = false;
    reported_ = false;
    attempt_counted_ = true;
    ++budget_.attempts;
    wait_until_ms_ = now_ms + remint_wait_ms;
  }
  if (auto lease = gateway_.pool().acquire(pool_time(now_ms))) {
    lease_ = std::move(lease);
    attempt_counted_ = false;
    if (budget_.captcha_provider) {
      state_ = state::awaiting_captcha;
      out.add(gateway_.cfg().captcha_provider_url->origin() +
              gateway_.cfg().captcha_provider_url->target());
      return action::captcha;
    }
    return send_upstream(std::nullopt, now_ms, out);
  }
  // A token being minted now is worth a short wait; a pool that is only resting is not.
  if (gateway_.mint_under_way(now_ms) && now_ms < wait_until_ms_) {
    out.add(static_cast<std::int64_t>(wait_until_ms_ - now_ms));
    return action::wait_token;
  }
  report(nullptr, now_ms);
  // A retry that found no token answers with the failure that caused it, except after a 401,
  // whose own failure was only that the fresh token did not arrive.
  if (retrying_ && retrying_->token != lease_outcome::unauthorized) {
    return fail(retrying_->error, now_ms, out);
  }
  api_error e = make_error(errc::no_token_available);
  e.retry_after_seconds =
      static_cast<int>(gateway_.pool().retry_after_hint(pool_time(now_ms)).count());
  return fail(e, now_ms, out);
}

action completion_flow::on_captcha(unsigned status, std::string_view body, double now_ms,
                                   record_writer& out) {
  out.clear();
  if (state_ != state::awaiting_captcha) return next(now_ms, out);
  const auto value = captcha_value(status, body);
  std::optional<std::string_view> view;
  if (value) view = *value;
  return send_upstream(view, now_ms, out);
}

action completion_flow::send_upstream(std::optional<std::string_view> captcha, double now_ms,
                                      record_writer& out) {
  const request_ids ids{gateway_.random_uuid(), gateway_.random_uuid(), gateway_.random_uuid(),
                        gateway_.random_uuid()};
  const auto up = build_completion_request({request_, model_, gateway_.cfg(), lease_->token, ids,
                                            static_cast<std::uint64_t>(now_ms),
                                            gateway_.fe_version(), captcha, host_hmac_sha256});
  if (!up) {
    upstream_verdict v;
    v.token = lease_outcome::ok;
    v.error = up.error();
    return judge(std::move(v), now_ms, out);
  }
  prompt_bytes_ = up->signature_prompt.size();
  state_ = state::fetching;
  out.add(up->method);
  out.add(gateway_.upstream_url(*up));
  out.add(up->body);
  out.add_headers(up->headers);
  return action::fetch;
}

action completion_flow::on_response(unsigned status, std::string_view content_type,
                                    std::string_view retry_after, std::string_view body,
                                    double now_ms, record_writer& out) {
  out.clear();
  if (state_ != state::fetching) return next(now_ms, out);
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
               now_ms, out);
}

action completion_flow::on_failure(bool timed_out, double now_ms, record_writer& out) {
  out.clear();
  if (state_ != state::fetching) return next(now_ms, out);
  return judge(judge_transport_failure(timed_out, budget_), now_ms, out);
}

action completion_flow::judge(upstream_verdict v, double now_ms, record_writer& out) {
  report(&v, now_ms);
  release(v.token, v.token_retry_after_seconds, now_ms);
  if (v.refresh_fe_version) gateway_.refresh_fe_version(now_ms);
  if (v.retry) {
    retrying_ = std::move(v);
    state_ = state::acquiring;
    return acquire(now_ms, out);
  }
  return fail(v.error, now_ms, out);
}

action completion_flow::on_bytes(std::string_view bytes, double now_ms, record_writer& out) {
  out.clear();
  if (!translator_ || upstream_ended_) return next(now_ms, out);
  translator_->feed(bytes, pending_);
  return after_input(now_ms, out);
}

action completion_flow::on_end(bool went_silent, double now_ms, record_writer& out) {
  out.clear();
  if (!translator_ || upstream_ended_) return next(now_ms, out);
  upstream_ended_ = true;
  went_silent_ = went_silent;
  translator_->finish(pending_);
  return after_input(now_ms, out);
}

action completion_flow::after_input(double now_ms, record_writer& out) {
  if (state_ == state::streaming) return pump(now_ms, out);
  if (state_ == state::collecting) return collect(now_ms, out);
  // Opening: until the first text, an error frame can still become a proper HTTP status.
  if (!upstream_ended_ && !translator_->ended() && !has_text(pending_)) return action::read;
  const stream_output* err = first_error(pending_);
  if (err && !has_text(pending_)) {
    return judge(judge_stream_error(err->error, budget_, went_silent_), now_ms, out);
  }
  report(nullptr, now_ms);
  if (!request_.stream) {
    state_ = state::collecting;
    return collect(now_ms, out);
  }
  state_ = state::streaming;
  writer_.emplace(meta_, gateway_.cfg().show_think_tags, request_.include_usage);
  out.add("200");
  out.add("");
  out.add_headers(stream_headers(origin_, gateway_.cfg()));
  return action::stream_start;
}

// Relays every translated item as chunks, as the native server's relay does.
action completion_flow::pump(double now_ms, record_writer& out) {
  if (stream_over_) {
    release(lease_outcome::ok, std::nullopt, now_ms);
    state_ = state::over;
    return action::close;
  }
  out_bytes_.clear();
  for (;;) {
    for (const auto& o : pending_) {
      switch (o.what) {
        case stream_output::kind::reasoning: writer_->reasoning(o.text, out_bytes_); break;
        case stream_output::kind::content:
          content_bytes_ += o.text.size();
          writer_->content(o.text, out_bytes_);
          break;
        case stream_output::kind::usage: break;
        case stream_output::kind::finished:
          writer_->finish(o.finish, out_bytes_);
          writer_->usage(final_usage(), out_bytes_);
          writer_->done(out_bytes_);
          stream_over_ = true;
          break;
        case stream_output::kind::error:
          chunk_writer::error(error_body(stream_error_to_api_error(o.error, went_silent_)),
                              out_bytes_);
          stream_over_ = true;
          break;
      }
      if (stream_over_) break;
    }
    pending_.clear();
    if (!out_bytes_.empty()) {
      out.add(out_bytes_);
      return action::write;
    }
    if (stream_over_) return pump(now_ms, out);
    if (!upstream_ended_) return action::read;
    translator_->finish(pending_);
    if (pending_.empty()) {
      stream_over_ = true;
      return pump(now_ms, out);
    }
  }
}

action completion_flow::collect(double now_ms, record_writer& out) {
  if (!translator_->ended() && !upstream_ended_) return action::read;
  std::optional<finish_reason> finish;
  for (const auto& o : pending_) {
    if (o.what == stream_output::kind::error) {
      // A non-stream request never returns a truncated answer as success.
      return fail(stream_error_to_api_error(o.error, went_silent_), now_ms, out);
    }
    if (o.what == stream_output::kind::finished) finish = o.finish;
  }
  if (!finish) {
    return fail(make_error(errc::upstream_error, "The upstream stream ended before it was done."),
                now_ms, out);
  }
  content_bytes_ = translator_->final_content().size();
  auto body = completion_body(meta_, translator_->final_reasoning(),
                              translator_->final_content(), *finish, final_usage(),
                              gateway_.cfg().show_think_tags);
  release(lease_outcome::ok, std::nullopt, now_ms);
  state_ = state::over;
  write_response(json_answer(200, std::move(body), origin_, gateway_.cfg()), out);
  return action::respond;
}

action completion_flow::fail(const api_error& e, double now_ms, record_writer& out) {
  release(lease_outcome::ok, std::nullopt, now_ms);
  state_ = state::over;
  out.clear();
  write_response(error_answer(e, origin_, gateway_.cfg()), out);
  return action::respond;
}

void completion_flow::release(lease_outcome outcome, std::optional<int> retry_after_seconds,
                              double now_ms) {
  if (!lease_) return;
  std::optional<token_pool::duration> hint;
  if (retry_after_seconds) hint = std::chrono::seconds(*retry_after_seconds);
  gateway_.pool().release(*lease_, outcome, pool_time(now_ms), hint);
  lease_.reset();
}

void completion_flow::report(upstream_verdict* verdict, double now_ms) {
  if (reported_) return;
  reported_ = true;
  report_to_breaker(gateway_.breaker(), pool_time(now_ms), probe_, answered_, verdict);
}

void completion_flow::abandon(double now_ms) {
  report(nullptr, now_ms);
  release(lease_outcome::ok, std::nullopt, now_ms);
  state_ = state::over;
}

token_usage completion_flow::final_usage() const {
  const token_usage u = translator_->usage();
  if (u.present) return u;
  return estimate_usage(prompt_bytes_, content_bytes_);
}

}  // namespace zai::wasm
