#include "server/chat_completions.hpp"

#include <boost/json/parse.hpp>

#include <charconv>
#include <sstream>

#include "core/api/front_door.hpp"
#include "core/api/openai_chat_response.hpp"
#include "core/flow/upstream_verdict.hpp"
#include "core/zai/request.hpp"
#include "native/hmac_openssl.hpp"
#include "server/respond.hpp"

namespace zai::server {
namespace {

constexpr std::size_t error_body_limit = 64 * 1024;
// How long a request waits for a token being minted (after a 401); a mint is one small request.
constexpr auto remint_wait = std::chrono::seconds(10);
// A client that takes longer than this to accept one write of a streamed answer has stopped
// reading; its connection is closed rather than held (the upstream waits meanwhile).
constexpr auto client_write_timeout = std::chrono::seconds(60);
const api_error shutdown_cut = make_error(errc::shutting_down);

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Closes the upstream connection as soon as the client goes away, so an abandoned stream does
// not keep generating upstream. It waits for the client socket to become readable: with no
// bytes available that means the peer closed (a pipelined request would have bytes).
// The same watch lets a shutdown cut the request short once its grace period is over.
struct client_watch {
  bool finished = false;
  bool client_gone = false;  // no new upstream work may start for this request
  bool cut = false;          // the shutdown grace ran out: end now with server_shutting_down
  std::weak_ptr<http_connection> upstream;

  bool stop_upstream_work() const { return client_gone || cut; }
};

awaitable<void> watch_client(beast::tcp_stream& client, std::shared_ptr<client_watch> watch) {
  auto [ec] = co_await client.socket().async_wait(tcp::socket::wait_read, nothrow_awaitable);
  if (watch->finished || ec) co_return;
  error_code ignored;
  if (client.socket().available(ignored) > 0) co_return;
  watch->client_gone = true;
  if (auto up = watch->upstream.lock()) up->cancel();
}

// Keeps a streamed answer's connection alive while the upstream is silent: when nothing was
// written for SSE_KEEPALIVE_MS, one SSE comment line (which every SSE client ignores). It writes
// only while the relay waits for the upstream, and the relay waits for such a write to finish
// before its own, so the two never write at once.
struct keepalive {
  explicit keepalive(const asio::any_io_executor& ex) : timer(ex), write_done(ex) {
    write_done.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer timer;
  asio::steady_timer write_done;  // cancelled each time a comment's write completes
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  bool relay_writing = false;
  bool writing = false;
  bool over = false;  // the relay has finished: write nothing more, touch nothing
};

awaitable<void> keep_client_alive(beast::tcp_stream& client, std::shared_ptr<keepalive> k,
                                  std::chrono::milliseconds every) {
  // `: keep-alive\n\n` (14 bytes) as one HTTP chunk.
  static constexpr std::string_view comment = "e\r\n: keep-alive\n\n\r\n";
  auto next = k->last_write + every;
  for (;;) {
    k->timer.expires_at(next);
    co_await k->timer.async_wait(nothrow_awaitable);
    if (k->over) co_return;
    const auto now = std::chrono::steady_clock::now();
    // A relay write in progress (a slow client) counts as activity: look again an interval on.
    if (k->relay_writing) {
      next = now + every;
      continue;
    }
    if (now < k->last_write + every) {
      next = k->last_write + every;
      continue;
    }
    k->writing = true;
    client.expires_after(client_write_timeout);
    auto [ec, n] = co_await asio::async_write(client, asio::buffer(comment), nothrow_awaitable);
    client.expires_never();
    k->writing = false;
    k->last_write = std::chrono::steady_clock::now();
    k->write_done.cancel();
    if (ec || k->over) co_return;
    next = k->last_write + every;
  }
}

// One upstream attempt that reached an HTTP 200 stream.
struct open_stream {
  std::shared_ptr<http_connection> connection;
  stream_translator translator;
  std::vector<stream_output> pending;  // translated but not yet sent to the client
  bool upstream_ended = false;         // EOF or read error seen (translator.finish called)
  bool went_silent = false;            // the end was UPSTREAM_IDLE_TIMEOUT_MS passing
};

// Reads the next piece of the upstream body into the translator; at the end of the body, or
// on a read error, finishes it (a stream without its done becomes `truncated`).
awaitable<void> read_more(open_stream& s) {
  error_code ec;
  const std::size_t n = co_await s.connection->read_some(
      [&s](std::string_view piece) { s.translator.feed(piece, s.pending); }, ec);
  if (n > 0 && !ec) co_return;
  s.upstream_ended = true;
  s.went_silent = ec == beast::error::timeout;
  s.translator.finish(s.pending);
}

// Appends `data` as one HTTP/1.1 chunk (size in hex, CRLF, data, CRLF); nothing for no data,
// since an empty chunk would end the response.
void append_chunk(std::string& wire, std::string_view data) {
  if (data.empty()) return;
  char size[20];
  const auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
  wire.append(size, end).append("\r\n").append(data).append("\r\n");
}

// Reads until the translator has produced text, an error, or the end. Everything produced is
// left in `pending`.
awaitable<void> read_until_text(open_stream& s) {
  while (!s.upstream_ended && !s.translator.ended() && !has_text(s.pending)) {
    co_await read_more(s);
  }
}

class completion {
 public:
  completion(app& a, exchange& ex, const chat_request& request, const resolved_model& model)
      : app_(a), ex_(ex), request_(request), model_(model),
        watch_(std::make_shared<client_watch>()) {
    meta_.id = a.completion_id();
    meta_.created = unix_ms() / 1000;
    meta_.model = request.model;
    budget_.captcha_provider = a.cfg().captcha_provider_url.has_value();
  }

  // What a shutdown calls once its grace period is over: end this request now.
  std::function<void()> cut_hook() const {
    return [w = std::weak_ptr<client_watch>(watch_)] {
      const auto watch = w.lock();
      if (!watch) return;
      watch->cut = true;
      if (auto up = watch->upstream.lock()) up->cancel();
    };
  }

  awaitable<bool> run() {
    asio::co_spawn(ex_.stream.get_executor(), watch_client(ex_.stream, watch_), asio::detached);
    const bool keep = co_await attempts();
    watch_->finished = true;
    error_code ignored;
    ex_.stream.socket().cancel(ignored);
    co_return keep;
  }

 private:
  awaitable<bool> attempts() {
    std::optional<upstream_verdict> retrying;  // the failure that caused this attempt
    for (;;) {
      ++budget_.attempts;
      // While the upstream's firewall blocks us, no request reaches it but the breaker's probe.
      const auto admission = app_.breaker().admit(std::chrono::steady_clock::now());
      if (!admission.allowed) co_return co_await fail(breaker_refusal(admission.retry_after));
      probe_ = admission.probe;
      answered_ = false;
      // A token being minted now (the re-mint after a 401, shared by every request that saw
      // the dead token) is worth a short wait; a pool that is only resting is not.
      auto lease = co_await app_.tokens().acquire_within(remint_wait);
      if (!lease) {
        // A retry that found no token answers with the failure that caused it (a 429 on every
        // token is the upstream's rate limit, not an empty pool) — except after a 401, whose
        // own failure was only that the fresh token did not arrive.
        report_to_breaker(app_.breaker(), std::chrono::steady_clock::now(), probe_, false, nullptr);
        if (retrying && retrying->token != lease_outcome::unauthorized) {
          co_return co_await fail(retrying->error);
        }
        api_error e = make_error(errc::no_token_available);
        e.retry_after_seconds = static_cast<int>(app_.tokens().retry_after_hint().count());
        co_return co_await fail(e);
      }
      ex_.pool_slot = static_cast<int>(lease->slot);

      std::optional<upstream_verdict> verdict;
      open_stream s;
      co_await open(*lease, s, verdict);
      if (!verdict && s.connection) {
        co_await read_until_text(s);
        const stream_output* err = first_error(s.pending);
        if (err && !has_text(s.pending)) {
          verdict = judge_stream_error(err->error, budget_, s.went_silent);
        }
      }
      report_to_breaker(app_.breaker(), std::chrono::steady_clock::now(), probe_, answered_,
                        verdict ? &*verdict : nullptr);
      if (verdict) {
        app_.tokens().release(*lease, verdict->token,
                              verdict->token_retry_after_seconds
                                  ? std::optional(std::chrono::seconds(*verdict->token_retry_after_seconds))
                                  : std::nullopt);
        if (verdict->refresh_fe_version) app_.refresh_fe_version();
        if (s.connection) s.connection->cancel();
        if (verdict->retry && !watch_->stop_upstream_work()) {
          retrying = std::move(verdict);
          continue;
        }
        co_return co_await fail(verdict->error);
      }

      const bool keep = request_.stream ? co_await relay(s) : co_await collect(s);
      app_.tokens().release(*lease, lease_outcome::ok);
      // Only a stream that completed cleanly leaves its connection fit for another request.
      if (s.translator.ended() && !s.upstream_ended) {
        app_.recycle_upstream(std::move(s.connection));
      } else {
        s.connection->cancel();
      }
      co_return keep;
    }
  }

  // Connects and sends the upstream request; sets `verdict` when the attempt failed before a
  // 200 stream began.
  awaitable<void> open(const token_lease& lease, open_stream& s,
                       std::optional<upstream_verdict>& verdict) {
    std::optional<std::string> captcha;
    if (budget_.captcha_provider) captcha = co_await app_.fetch_captcha();

    const request_ids ids{app_.random_uuid(), app_.random_uuid(), app_.random_uuid(),
                          app_.random_uuid()};
    std::optional<std::string_view> captcha_view;
    if (captcha) captcha_view = *captcha;
    const auto up = build_completion_request({request_, model_, app_.cfg(), lease.token, ids,
                                              static_cast<std::uint64_t>(unix_ms()),
                                              app_.fe_version(), captcha_view,
                                              native::hmac_sha256});
    if (!up) {
      verdict.emplace();
      verdict->token = lease_outcome::ok;
      verdict->error = up.error();
      co_return;
    }
    prompt_bytes_ = up->signature_prompt.size();

    auto r = to_beast(*up, app_.cfg().zai_base_url);
    s.connection = app_.take_upstream();
    error_code ec;
    if (s.connection->reused()) {
      watch_->upstream = s.connection;
      ec = co_await s.connection->send(r);
      // The upstream may have closed the idle connection just as we reused it; nothing was
      // answered, so the request goes once more on a fresh connection.
      if (ec && ec != beast::error::timeout && !watch_->stop_upstream_work()) {
        s.connection->cancel();
        s.connection = app_.connect_upstream();
      }
    }
    if (!s.connection->reused()) {
      watch_->upstream = s.connection;
      // A client that left while we waited for a token or a captcha gets no upstream request.
      if (watch_->stop_upstream_work()) {
        ec = asio::error::operation_aborted;
      } else {
        ec = co_await s.connection->connect();
        if (!ec) ec = co_await s.connection->send(r);
      }
    }
    if (ec) {
      verdict = judge_transport_failure(ec == beast::error::timeout, budget_);
      co_return;
    }
    answered_ = true;
    const unsigned status = s.connection->status();
    if (status == 200) co_return;

    std::string body;
    co_await s.connection->read_body(body, error_body_limit);
    const auto& h = s.connection->headers();
    const auto ct = h[http::field::content_type];
    const auto ra = h[http::field::retry_after];
    verdict = judge_http_status(status, std::string_view(ct.data(), ct.size()), body,
                                parse_retry_after(std::string_view(ra.data(), ra.size())),
                                budget_);
  }

  awaitable<bool> fail(const api_error& e) {
    // Whatever failed after a shutdown cut failed because of it.
    const api_error& why = watch_->cut ? shutdown_cut : e;
    co_return co_await send(ex_, error_response(ex_, app_.cfg(), why));
  }

  // The client's error for a failed stream. A stream cut short by the idle timeout is the
  // upstream going silent, which the error table calls a timeout, not a truncation; one cut by
  // the shutdown is the shutdown.
  api_error client_error(const open_stream& s, const upstream_error& e) const {
    if (watch_->cut) return shutdown_cut;
    return stream_error_to_api_error(e, s.went_silent);
  }

  // Streams the answer: headers now (the first text is in hand), then every event as it comes.
  // Each pass makes one write: the status line and headers go out with the first events, and
  // the chunked terminator with the last, so an answer that arrives at once costs one syscall.
  awaitable<bool> relay(open_stream& s) {
    const bool keep_alive = ex_.request.keep_alive() && !ex_.shutting_down;
    ex_.status = 200;
    ex_.first_byte = std::chrono::steady_clock::now();

    std::string wire = stream_head(keep_alive);  // bytes for this pass's write
    chunk_writer writer(meta_, app_.cfg().show_think_tags, request_.include_usage);
    std::string out;
    bool over = false;
    auto alive = std::make_shared<keepalive>(ex_.stream.get_executor());
    if (app_.cfg().sse_keepalive.count() > 0) {
      asio::co_spawn(ex_.stream.get_executor(),
                     keep_client_alive(ex_.stream, alive, app_.cfg().sse_keepalive),
                     asio::detached);
    }
    // However the relay ends, the keep-alive writer stops before the exchange can go away.
    struct stop_keepalive {
      keepalive& k;
      ~stop_keepalive() {
        k.over = true;
        k.timer.cancel();
      }
    } stop{*alive};
    for (;;) {
      for (const auto& o : s.pending) {
        switch (o.what) {
          case stream_output::kind::reasoning: writer.reasoning(o.text, out); break;
          case stream_output::kind::content:
            content_bytes_ += o.text.size();
            writer.content(o.text, out);
            break;
          case stream_output::kind::usage: break;
          case stream_output::kind::finished:
            writer.finish(o.finish, out);
            writer.usage(final_usage(s.translator), out);
            writer.done(out);
            over = true;
            break;
          case stream_output::kind::error:
            chunk_writer::error(error_body(client_error(s, o.error)), out);
            over = true;
            break;
        }
        if (over) break;
      }
      s.pending.clear();
      append_chunk(wire, out);
      out.clear();
      if (!over && s.upstream_ended) {
        s.translator.finish(s.pending);
        if (!s.pending.empty()) continue;
        over = true;
      }
      if (over) wire += "0\r\n\r\n";  // the last chunk: the response is complete
      if (!wire.empty()) {
        while (alive->writing) co_await alive->write_done.async_wait(nothrow_awaitable);
        alive->relay_writing = true;
        ex_.stream.expires_after(client_write_timeout);
        auto [wec, wn] = co_await asio::async_write(ex_.stream, asio::buffer(wire),
                                                    nothrow_awaitable);
        ex_.stream.expires_never();
        alive->relay_writing = false;
        alive->last_write = std::chrono::steady_clock::now();
        if (wec) co_return false;  // the client went away; the caller closes the upstream
      }
      if (over) break;
      // A paced stream spends its life waiting for the next event: hold no buffers meanwhile.
      std::string().swap(wire);
      std::string().swap(out);
      std::vector<stream_output>().swap(s.pending);
      co_await read_more(s);
    }
    // The last chunk went out, after a finish or an error event alike: the response is
    // complete and its head promised keep-alive, so the client may send its next request here.
    co_return keep_alive;
  }

  // The status line and headers of a streamed answer.
  std::string stream_head(bool keep_alive) const {
    http::response<http::empty_body> head(http::status::ok, ex_.request.version());
    head.set(http::field::server, "zai-proxy");
    const auto origin = ex_.request[http::field::origin];
    for (const auto& [name, value] :
         stream_headers(std::string_view(origin.data(), origin.size()), app_.cfg())) {
      head.set(name, value);
    }
    head.keep_alive(keep_alive);
    head.chunked(true);
    std::ostringstream text;
    text << head.base();
    return text.str();
  }

  // Reads the whole upstream stream and answers with one chat.completion.
  awaitable<bool> collect(open_stream& s) {
    while (!s.translator.ended() && !s.upstream_ended) co_await read_more(s);
    std::optional<finish_reason> finish;
    for (const auto& o : s.pending) {
      if (o.what == stream_output::kind::error) {
        // A non-stream request never returns a truncated answer as success.
        co_return co_await fail(client_error(s, o.error));
      }
      if (o.what == stream_output::kind::finished) finish = o.finish;
    }
    if (!finish) co_return co_await fail(make_error(errc::upstream_error,
                                                   "The upstream stream ended before it was done."));
    content_bytes_ = s.translator.final_content().size();
    auto body = completion_body(meta_, s.translator.final_reasoning(),
                                s.translator.final_content(), *finish, final_usage(s.translator),
                                app_.cfg().show_think_tags);
    co_return co_await send(ex_, json_response(ex_, app_.cfg(), http::status::ok, std::move(body)));
  }

  token_usage final_usage(const stream_translator& t) const {
    const token_usage u = t.usage();
    if (u.present) return u;
    return estimate_usage(prompt_bytes_, content_bytes_);
  }

  app& app_;
  exchange& ex_;
  const chat_request& request_;
  const resolved_model& model_;
  completion_meta meta_;
  attempt_budget budget_;
  std::shared_ptr<client_watch> watch_;
  bool probe_ = false;     // this attempt is the WAF breaker's probe
  bool answered_ = false;  // this attempt got an HTTP answer from the upstream
  std::size_t prompt_bytes_ = 0;
  std::size_t content_bytes_ = 0;
};

}  // namespace

awaitable<bool> serve_chat_completion(app& a, exchange& ex, const chat_request& request,
                                      const resolved_model& model) {
  completion c(a, ex, request, model);
  const auto id = a.begin_completion(c.cut_hook());
  if (!id) {
    co_return co_await send(ex, error_response(ex, a.cfg(), make_error(errc::too_many_streams)));
  }
  struct end_completion {
    app& a;
    std::uint64_t id;
    ~end_completion() { a.end_completion(id); }
  } counted{a, *id};
  co_return co_await c.run();
}

}  // namespace zai::server
