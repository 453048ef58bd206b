#include "server/completion_driver.hpp"

#include <charconv>
#include <sstream>

#include "server/respond.hpp"

namespace zai::server {
namespace {

constexpr std::size_t error_body_limit = 64 * 1024;
constexpr std::size_t small_body_limit = 1024 * 1024;
constexpr std::size_t front_page_limit = 4 * small_body_limit;
// A client that takes longer than this to accept one write of a streamed answer has stopped
// reading; its connection is closed rather than held (the upstream waits meanwhile).
constexpr auto client_write_timeout = std::chrono::seconds(60);

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

// Appends `data` as one HTTP/1.1 chunk (size in hex, CRLF, data, CRLF); nothing for no data,
// since an empty chunk would end the response.
void append_chunk(std::string& wire, std::string_view data) {
  if (data.empty()) return;
  char size[20];
  const auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
  wire.append(size, end).append("\r\n").append(data).append("\r\n");
}

// What outlives a suspended step: whether the client went away (no new upstream work may start
// for it), whether the shutdown cut it, and the connection to close at once when either happens.
struct client_watch {
  bool finished = false;
  bool client_gone = false;
  bool cut = false;
  std::weak_ptr<http_connection> upstream;

  bool stop_upstream_work() const { return client_gone || cut; }
  void close_upstream() const {
    if (auto up = upstream.lock()) up->cancel();
  }
};

// Waits for the client socket to become readable: with no bytes available that means the peer
// closed (a pipelined request would have bytes), so the upstream is closed at once. A handler,
// not a coroutine: every stream waits in it, and a spawned coroutine costs ~1 KB more.
void watch_client(beast::tcp_stream& client, std::shared_ptr<client_watch> watch) {
  client.socket().async_wait(tcp::socket::wait_read,
                             [&client, watch = std::move(watch)](const error_code& ec) {
                               if (watch->finished || ec) return;
                               error_code ignored;
                               if (client.socket().available(ignored) > 0) return;
                               watch->client_gone = true;
                               watch->close_upstream();
                             });
}

// Serialises the writes to the client of the relay and of the keep-alive writer: one at a time.
class write_gate {
 public:
  explicit write_gate(const asio::any_io_executor& ex) : released_(ex) {
    released_.expires_at(asio::steady_timer::time_point::max());
  }
  bool busy() const { return busy_; }
  awaitable<void> acquire() {
    while (busy_) co_await released_.async_wait(nothrow_awaitable);
    busy_ = true;
  }
  void release() {
    busy_ = false;
    released_.cancel();  // wakes the writer waiting for its turn, if any
  }

 private:
  asio::steady_timer released_;
  bool busy_ = false;
};

class completion_driver {
 public:
  completion_driver(worker& loop, exchange& ex, completion_flow& flow)
      : loop_(loop), ex_(ex), flow_(flow), watch_(std::make_shared<client_watch>()),
        gate_(ex.stream.get_executor()), quiet_timer_(ex.stream.get_executor()),
        writer_left_(ex.stream.get_executor()) {
    writer_left_.expires_at(asio::steady_timer::time_point::max());
  }

  awaitable<bool> run() {
    watch_client(ex_.stream, watch_);
    const auto cut_id = loop_.on_cut([this, w = std::weak_ptr<client_watch>(watch_)] {
      const auto watch = w.lock();
      if (!watch || watch->finished) return;
      watch->cut = true;
      flow_.cut();
      watch->close_upstream();
    });
    if (flow_.streaming_request() && loop_.cfg().sse_keepalive.count() > 0) {
      ++writers_;
      last_write_ = std::chrono::steady_clock::now();
      await_quiet();
    }
    const bool keep = co_await steps();
    loop_.forget_cut(cut_id);
    watch_->finished = true;
    error_code ignored;
    ex_.stream.socket().cancel(ignored);  // ends watch_client's wait
    over_ = true;
    quiet_timer_.cancel();
    // The keep-alive writer uses this object: it must have left before the exchange goes.
    while (writers_ > 0) co_await writer_left_.async_wait(nothrow_awaitable);
    ex_.pool_slot = flow_.pool_slot();
    if (upstream_) upstream_->cancel();
    loop_.shared().wake_upkeep();  // a verdict may have emptied a slot
    co_return keep;
  }

 private:
  // Performs the flow's actions until it is over.
  awaitable<bool> steps() {
    action next = flow_.next(now());
    for (;;) {
      if (watch_->client_gone) {
        flow_.abandon(now());
        co_return false;
      }
      switch (next) {
        case action::respond:
          keep_upstream();
          co_return co_await send(ex_, to_beast(ex_, flow_.response()));
        case action::stream_start:
          head(wire_);
          append_chunk(wire_, flow_.bytes());
          next = flow_.next(now());
          break;
        case action::write:
          append_chunk(wire_, flow_.bytes());
          next = flow_.next(now());
          break;
        case action::end_stream: {
          append_chunk(wire_, flow_.bytes());
          wire_ += "0\r\n\r\n";  // the last chunk: the response is complete
          const bool written = co_await flush();
          keep_upstream();
          // The head promised keep-alive, and the answer (a finish or an error event) is whole.
          co_return written && keep_alive_;
        }
        case action::read:
          if (!co_await flush()) {
            flow_.abandon(now());
            co_return false;
          }
          next = co_await read_upstream();
          break;
        case action::wait_token:
          loop_.shared().wake_upkeep();  // the mint this completion waits for may be due now
          co_await loop_.wait_for_mint(flow_.wait());
          next = flow_.next(now());
          break;
        case action::captcha: {
          const auto [status, body] =
              co_await get(endpoint_of_captcha(), captcha_request(), small_body_limit);
          next = flow_.on_captcha(status, body, now());
          break;
        }
        case action::fetch:
          loop_.shared().wake_upkeep();  // a verdict may have asked for a new token
          next = co_await fetch();
          break;
        case action::refresh_version: {
          const auto [status, body] = co_await get(
              loop_.shared().upstream(), to_beast(flow_.upstream(), loop_.cfg().zai_base_url),
              front_page_limit);
          next = flow_.on_front_page(status, body, now());
          break;
        }
        case action::none:
          next = flow_.next(now());
          break;
      }
    }
  }

  // Only an upstream answer that completed cleanly leaves its connection fit for another request.
  void keep_upstream() {
    if (upstream_ && flow_.upstream_reusable()) loop_.recycle_upstream(std::move(upstream_));
  }

  // The status line and headers of a streamed answer, once, by whichever writer commits it.
  void head(std::string& wire) {
    keep_alive_ = ex_.request.keep_alive() && !ex_.shutting_down;
    ex_.status = 200;
    ex_.first_byte = std::chrono::steady_clock::now();
    http::response<http::empty_body> h(http::status::ok, ex_.request.version());
    h.set(http::field::server, "zai-proxy");
    for (const auto& [name, value] : flow_.stream_head()) h.set(name, value);
    h.keep_alive(keep_alive_);
    h.chunked(true);
    std::ostringstream text;
    text << h.base();
    wire += text.str();
  }

  // Writes what the relay gathered; false when the client went away.
  awaitable<bool> flush() {
    if (wire_.empty()) co_return true;
    co_await gate_.acquire();
    const bool ok = co_await write(wire_);
    gate_.release();
    // A paced stream spends its life waiting for the next event: hold no buffers meanwhile.
    std::string().swap(wire_);
    co_return ok;
  }

  awaitable<bool> write(const std::string& bytes) {
    ex_.stream.expires_after(client_write_timeout);
    auto [ec, n] = co_await asio::async_write(ex_.stream, asio::buffer(bytes), nothrow_awaitable);
    ex_.stream.expires_never();
    last_write_ = std::chrono::steady_clock::now();
    co_return !ec;
  }

  // When nothing was written for SSE_KEEPALIVE_MS, the flow says what keeps the client from
  // dropping the connection: a keep-alive event, or, before the first text, the head with one.
  // It writes only while the relay waits on something else. The wait is a timer handler and a
  // coroutine runs only for the write: every stream waits here, and a coroutine held for the
  // stream's life costs ~1 KB. One of the two is pending until the writer leaves (writers_).
  void await_quiet() {
    quiet_timer_.expires_at(last_write_ + loop_.cfg().sse_keepalive);
    quiet_timer_.async_wait([this](const error_code&) { on_quiet(); });
  }

  void on_quiet() {
    if (over_) return writer_leaves();
    const auto t = std::chrono::steady_clock::now();
    if (gate_.busy() || t < last_write_ + loop_.cfg().sse_keepalive) {
      if (gate_.busy()) last_write_ = t;  // a slow write is activity
      return await_quiet();
    }
    const action a = flow_.on_quiet(now());
    if (a == action::none) return writer_leaves();
    std::string bytes;
    if (a == action::stream_start) head(bytes);
    append_chunk(bytes, flow_.bytes());
    asio::co_spawn(ex_.stream.get_executor(), write_keepalive(std::move(bytes)), asio::detached);
  }

  awaitable<void> write_keepalive(std::string bytes) {
    co_await gate_.acquire();
    const bool ok = !over_ && co_await write(bytes);
    gate_.release();
    if (ok && !over_) {
      await_quiet();
    } else {
      writer_leaves();
    }
  }

  void writer_leaves() {
    --writers_;
    writer_left_.cancel();
  }

  // Sends the flow's upstream request on a kept-alive connection or a new one, and reports
  // the answer's head (and a non-200 body) back.
  awaitable<action> fetch() {
    if (upstream_) upstream_->cancel();
    // Made for each send, which frees it once written, rather than held while the answer comes.
    const auto request = [this] { return to_beast(flow_.upstream(), loop_.cfg().zai_base_url); };
    upstream_ = loop_.take_upstream();
    watch_->upstream = upstream_;
    error_code ec;
    if (upstream_->reused()) {
      ec = co_await upstream_->send(request());
      // The upstream may have closed the idle connection just as we reused it; nothing was
      // answered, so the request goes once more on a fresh connection.
      if (ec && ec != beast::error::timeout && !watch_->stop_upstream_work()) {
        upstream_->cancel();
        upstream_ = loop_.connect(loop_.shared().upstream());
        watch_->upstream = upstream_;
      }
    }
    if (!upstream_->reused()) {
      // A client that left while we waited for a token or a captcha gets no upstream request.
      if (watch_->stop_upstream_work()) {
        ec = asio::error::operation_aborted;
      } else {
        ec = co_await upstream_->connect();
        if (!ec) ec = co_await upstream_->send(request());
      }
    }
    if (ec) {
      upstream_->cancel();
      co_return flow_.on_failure(ec == beast::error::timeout, now());
    }
    const unsigned status = upstream_->status();
    const auto& h = upstream_->headers();
    const std::string content_type(sv(h[http::field::content_type]));
    const std::string retry_after(sv(h[http::field::retry_after]));
    if (status == 200) {
      upstream_->drop_headers();  // a paced stream would hold them while it waits
      co_return flow_.on_response(200, content_type, retry_after, "", now());
    }
    std::string body;
    co_await upstream_->read_body(body, error_body_limit);
    upstream_->cancel();
    co_return flow_.on_response(status, content_type, retry_after, body, now());
  }

  // Hands the next piece of the upstream body to the flow; at its end (or a read error, or the
  // idle timeout) reports that instead.
  awaitable<action> read_upstream() {
    error_code ec;
    const std::size_t n = co_await upstream_->read_some(
        [this](std::string_view piece) { flow_.feed(piece); }, ec);
    if (n > 0 && !ec) co_return flow_.next(now());
    co_return flow_.on_end(ec == beast::error::timeout, now());
  }

  // A GET outside the completion's upstream connection (the captcha provider, the front page):
  // status 0 and no body when it failed. The shutdown cut and a departed client close it.
  awaitable<std::pair<unsigned, std::string>> get(const endpoint& where,
                                                  http::request<http::string_body> r,
                                                  std::size_t limit) {
    std::shared_ptr<http_connection> conn = loop_.connect(where);
    watch_->upstream = conn;
    unsigned status = 0;
    std::string body;
    if (!watch_->stop_upstream_work() && !co_await conn->connect() &&
        !co_await conn->send(std::move(r))) {
      status = conn->status();
      if (co_await conn->read_body(body, limit)) status = 0;
    }
    conn->cancel();
    co_return std::pair{status, std::move(body)};
  }

  endpoint endpoint_of_captcha() const {
    const auto& url = *loop_.cfg().captcha_provider_url;
    return endpoint{url.tls(), url.host, std::to_string(url.port)};
  }

  http::request<http::string_body> captcha_request() const {
    const auto& url = *loop_.cfg().captcha_provider_url;
    http::request<http::string_body> r(http::verb::get, url.target(), 11);
    r.set(http::field::host, url.authority());
    r.set(http::field::accept, "application/json");
    return r;
  }

  worker& loop_;
  exchange& ex_;
  completion_flow& flow_;
  std::shared_ptr<client_watch> watch_;
  std::shared_ptr<http_connection> upstream_;
  write_gate gate_;
  asio::steady_timer quiet_timer_;
  asio::steady_timer writer_left_;  // cancelled when the keep-alive writer leaves
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  std::string wire_;  // the relay's bytes gathered for its next write
  bool keep_alive_ = false;
  bool over_ = false;
  int writers_ = 0;  // keep-alive writers still running
};

}  // namespace

awaitable<bool> serve_completion(worker& loop, exchange& ex,
                                 std::unique_ptr<completion_flow> flow) {
  completion_driver driver(loop, ex, *flow);
  co_return co_await driver.run();
}

}  // namespace zai::server
