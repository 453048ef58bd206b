#include "server/http_server.hpp"

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

}  // namespace

http_server::http_server(asio::io_context& io, server_limits limits, request_handler handler,
                         refusal_writer refuse)
    : io_(io),
      limits_(limits),
      handler_(std::move(handler)),
      refuse_(std::move(refuse)),
      acceptor_(io) {}

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

void http_server::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void http_server::stop_accepting() {
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& c : connections_) {
    if (!c.busy) c.stream->socket().close(ignored);
  }
}

awaitable<void> http_server::accept_loop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(nothrow_awaitable);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(nothrow_awaitable);
      continue;
    }
    if (connections_.size() >= limits_.max_connections) {
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> http_server::serve(tcp::socket socket) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::tcp_stream stream(std::move(socket));
  auto self = connections_.insert(connections_.end(), connection{&stream, false});
  beast::flat_buffer buffer;
  bool first = true;

  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);

    // The first request gets the header deadline; later ones the keep-alive idle time plus it.
    stream.expires_after(first ? limits_.header_timeout
                               : limits_.keep_alive_idle + limits_.header_timeout);
    first = false;
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, nothrow_awaitable);
    self->busy = true;

    http::status refusal = http::status::ok;
    std::string_view why;
    if (hec == http::error::header_limit) {
      refusal = http::status::request_header_fields_too_large;
      why = "Request headers are too large.";
    } else if (hec == http::error::body_limit) {
      refusal = http::status::payload_too_large;
      why = "Request body is too large.";
    } else if (hec) {
      if (!is_quiet_disconnect(hec) && hec != http::error::partial_message) {
        refusal = http::status::bad_request;
        why = "Malformed HTTP request.";
      } else {
        break;
      }
    }

    if (refusal == http::status::ok) {
      if (parser.get()[http::field::expect] == "100-continue") {
        http::response<http::empty_body> go_on(http::status::continue_, 11);
        auto [cec, cn] = co_await http::async_write(stream, go_on, nothrow_awaitable);
        if (cec) break;
      }
      stream.expires_after(limits_.body_timeout);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, nothrow_awaitable);
      if (bec == http::error::body_limit) {
        refusal = http::status::payload_too_large;
        why = "Request body is too large.";
      } else if (bec == beast::error::timeout) {
        refusal = http::status::request_timeout;
        why = "Request body was not received in time.";
      } else if (bec) {
        break;
      }
    }

    if (refusal != http::status::ok) {
      // The stream may hold unread body bytes: answer and close rather than resynchronise.
      auto response = refuse_(refusal, why);
      response.keep_alive(false);
      response.prepare_payload();
      stream.expires_after(limits_.body_timeout);
      auto [wec, wn] = co_await http::async_write(stream, response, nothrow_awaitable);
      self->busy = false;  // a shutdown may close the socket under the drain
      if (!wec) co_await drain_before_close(stream);
      break;
    }

    stream.expires_never();
    exchange ex{stream, parser.release()};
    ex.shutting_down = stopping_;
    ex.started = std::chrono::steady_clock::now();
    const bool keep = co_await handler_(ex);
    self->busy = false;
    if (!keep || !ex.request.keep_alive()) break;
  }

  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
  connections_.erase(self);
}

}  // namespace zai::server
