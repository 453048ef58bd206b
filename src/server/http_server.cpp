#include "server/http_server.hpp"

#include <memory>
#include <optional>
#include <tuple>

namespace zai::server {
namespace {

bool is_quiet_disconnect(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout;
}

// After a refusal the client may still be sending the body we will not read. Closing a socket
// with unread bytes makes the kernel send a reset, and a reset can destroy the response before
// the client reads it (a large upload then fails with EPIPE instead of showing the 413). So
// stop writing, then read and discard what keeps arriving, within bounds, before closing.
constexpr std::size_t drain_limit_bytes = std::size_t{64} << 20;
constexpr std::chrono::seconds drain_limit_time{10};

awaitable<void> drain_before_close(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(drain_limit_time);
  char scratch[16 * 1024];
  std::size_t drained = 0;
  while (drained < drain_limit_bytes) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), nothrow_awaitable);
    if (ec) break;
    drained += n;
  }
}

// Why a request read failed, as the client's error; nullopt when there is no one to answer (the
// client left or went quiet between requests).
std::optional<api_error> refusal_for(const error_code& ec) {
  if (ec == http::error::header_limit) return make_error(errc::headers_too_large);
  if (ec == http::error::body_limit) return make_error(errc::request_too_large);
  if (ec == beast::error::timeout) return make_error(errc::request_timeout);
  if (is_quiet_disconnect(ec) || ec == http::error::partial_message) return std::nullopt;
  return make_error(errc::invalid_request, "Malformed HTTP request.");
}

// Reads the request body within `limit`. A tcp_stream deadline would close the socket, leaving
// no way to answer; this one only cancels the read, so the client still gets its 408.
awaitable<std::tuple<error_code, std::size_t>> read_body_within(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    http::request_parser<http::string_body>& parser, std::chrono::milliseconds limit) {
  stream.expires_never();
  asio::steady_timer deadline(stream.get_executor(), limit);
  // The timer's handler may already be queued when the read completes: `armed` tells it the
  // read it was meant to stop is over.
  auto armed = std::make_shared<bool>(true);
  auto fired = std::make_shared<bool>(false);
  deadline.async_wait([&stream, armed, fired](const error_code& ec) {
    if (ec || !*armed) return;
    *fired = true;
    error_code ignored;
    stream.socket().cancel(ignored);
  });
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow_awaitable);
  *armed = false;
  deadline.cancel();
  if (*fired) ec = beast::error::timeout;
  co_return std::tuple{ec, n};
}

// How many over-capacity connections may be waiting for their 503 at once; past that they are
// closed at once, so refusing never costs more than this many descriptors.
constexpr std::size_t max_turning_away = 256;

}  // namespace

http_server::http_server(asio::io_context& io, server_limits limits, request_handler handler,
                         refusal_writer refuse, connection_count& count)
    : io_(io),
      limits_(limits),
      handler_(std::move(handler)),
      refuse_(std::move(refuse)),
      acceptor_(io),
      count_(count) {}

error_code http_server::listen(const std::string& host, unsigned short port) {
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return ec;
  const tcp::endpoint where(address, port);
  acceptor_.open(where.protocol(), ec);
  if (ec) return ec;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_.bind(where, ec);
  if (ec) return ec;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  port_ = acceptor_.local_endpoint().port();
  return {};
}

void http_server::start(std::vector<http_server*> servers) {
  asio::co_spawn(io_, accept_loop(std::move(servers)), asio::detached);
}

// A connection accepted onto this server's reactor, by whichever loop accepted it: from here on
// only this loop touches it.
void http_server::adopt(tcp::socket socket, bool over_capacity) {
  auto start = [this, over_capacity, s = std::move(socket)]() mutable {
    if (over_capacity) {
      asio::co_spawn(io_, turn_away(std::move(s)), asio::detached);
    } else {
      asio::co_spawn(io_, serve(std::move(s)), asio::detached);
    }
  };
  if (io_.get_executor().running_in_this_thread()) {
    start();
  } else {
    asio::post(io_, std::move(start));
  }
}

void http_server::stop_accepting() {
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& c : connections_) {
    if (!c.busy) c.stream->socket().close(ignored);
  }
}

awaitable<void> http_server::accept_loop(std::vector<http_server*> servers) {
  std::size_t turn = 0;
  while (!stopping_) {
    http_server& next = *servers[turn++ % servers.size()];
    // Accepted straight onto the serving loop's reactor.
    auto [ec, socket] = co_await acceptor_.async_accept(next.io_, nothrow_awaitable);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(nothrow_awaitable);
      continue;
    }
    if (count_.open.fetch_add(1) >= limits_.max_connections) {
      count_.open.fetch_sub(1);
      // Accepting and answering keeps the backlog from growing while we are full, and tells
      // the client when to come back instead of leaving it to time out.
      if (count_.turning_away.fetch_add(1) < max_turning_away) {
        next.adopt(std::move(socket), true);
      } else {
        count_.turning_away.fetch_sub(1);
        error_code ignored;
        socket.close(ignored);
      }
      continue;
    }
    next.adopt(std::move(socket), false);
  }
}

awaitable<std::optional<http::request<http::string_body>>> http_server::read_request(
    beast::tcp_stream& stream, beast::flat_buffer& buffer, connection& self, bool first) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser.body_limit(limits_.max_body_bytes);

  // The first request gets the header deadline; later ones the keep-alive idle time plus it.
  stream.expires_after(first ? limits_.header_timeout
                             : limits_.keep_alive_idle + limits_.header_timeout);
  auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, nothrow_awaitable);
  self.busy = true;
  if (hec) {
    // Headers that do not arrive in time (an idle keep-alive connection, a slowloris) get
    // no answer: the connection is just closed.
    if (hec == beast::error::timeout) co_return std::nullopt;
    // A Content-Length over the limit fails here, after the request line was read.
    const auto& head = parser.get();
    const std::string method(head.method_string());
    const std::string target(head.target());
    if (auto why = refusal_for(hec)) co_await refuse(stream, *why, &self, method, target);
    co_return std::nullopt;
  }

  if (parser.get()[http::field::expect] == "100-continue") {
    http::response<http::empty_body> go_on(http::status::continue_, 11);
    auto [cec, cn] = co_await http::async_write(stream, go_on, nothrow_awaitable);
    if (cec) co_return std::nullopt;
  }
  auto [bec, bn] = co_await read_body_within(stream, buffer, parser, limits_.body_timeout);
  if (bec) {
    const auto& head = parser.get();
    const std::string method(head.method_string());
    const std::string target(head.target());
    if (auto why = refusal_for(bec)) co_await refuse(stream, *why, &self, method, target);
    co_return std::nullopt;
  }
  stream.expires_never();
  co_return parser.release();
}

awaitable<void> http_server::serve(tcp::socket socket) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::tcp_stream stream(std::move(socket));
  auto self = connections_.insert(connections_.end(), connection{&stream, false});
  beast::flat_buffer buffer;
  bool first = true;

  while (!stopping_) {
    auto request = co_await read_request(stream, buffer, *self, first);
    first = false;
    if (!request) break;
    // The read buffer is empty unless the client pipelined: a long answer (a paced stream)
    // need not hold its capacity; the next request's read allocates it again.
    if (buffer.size() == 0) buffer.shrink_to_fit();
    exchange ex{.stream = stream, .request = std::move(*request)};
    request.reset();
    ex.shutting_down = stopping_;
    ex.started = std::chrono::steady_clock::now();
    const bool keep = co_await handler_(ex);
    self->busy = false;
    if (!keep || !ex.request.keep_alive()) break;
  }

  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
  connections_.erase(self);
  count_.open.fetch_sub(1);
}

// The stream may hold unread body bytes: answer and close rather than resynchronise.
awaitable<void> http_server::refuse(beast::tcp_stream& stream, const api_error& why,
                                    connection* self, std::string_view method,
                                    std::string_view target) {
  auto response = refuse_(why, method, target);
  response.keep_alive(false);
  response.prepare_payload();
  stream.expires_after(limits_.body_timeout);
  auto [ec, n] = co_await http::async_write(stream, response, nothrow_awaitable);
  if (self) self->busy = false;  // a shutdown may close the socket under the drain
  if (!ec) co_await drain_before_close(stream);
}

// A connection over MAX_CONNECTIONS: a 503 with Retry-After, written without reading the
// request (the client reads it once its request is sent), then a short drain and close.
awaitable<void> http_server::turn_away(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  co_await refuse(stream, make_error(errc::overloaded));
  error_code ignored;
  stream.socket().close(ignored);
  count_.turning_away.fetch_sub(1);
}

}  // namespace zai::server
