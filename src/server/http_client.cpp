#include "server/http_client.hpp"

#include <openssl/err.h>

#include <boost/asio/ssl/host_name_verification.hpp>

namespace zai::server {

http_connection::http_connection(asio::any_io_executor executor, ssl::context& tls,
                                 endpoint where, client_timeouts timeouts)
    : tls_(tls),
      where_(std::move(where)),
      timeouts_(timeouts),
      stream_(std::in_place_type<plain_stream>, executor) {
  if (where_.tls) stream_.emplace<tls_stream>(executor, tls_);
}

beast::tcp_stream& http_connection::lowest() {
  return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                    stream_);
}

bool http_connection::is_open() const {
  return std::visit([](auto& s) { return beast::get_lowest_layer(s).socket().is_open(); },
                    stream_);
}

void http_connection::cancel() {
  error_code ignored;
  lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  lowest().socket().close(ignored);
}

awaitable<error_code> http_connection::connect() {
  tcp::resolver resolver(lowest().get_executor());
  auto [rec, results] = co_await resolver.async_resolve(where_.host, where_.port, nothrow_awaitable);
  if (rec) co_return rec;

  lowest().expires_after(timeouts_.connect);
  auto [cec, ep] = co_await lowest().async_connect(results, nothrow_awaitable);
  if (cec) co_return cec;
  lowest().socket().set_option(tcp::no_delay(true));

  if (auto* s = std::get_if<tls_stream>(&stream_)) {
    // SNI, then verify the certificate chain and that it names the host we dialled.
    if (!SSL_set_tlsext_host_name(s->native_handle(), where_.host.c_str())) {
      co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    }
    s->set_verify_mode(ssl::verify_peer);
    s->set_verify_callback(ssl::host_name_verification(where_.host));
    auto [hec] = co_await s->async_handshake(ssl::stream_base::client, nothrow_awaitable);
    if (hec) co_return hec;
  }
  co_return error_code{};
}

awaitable<error_code> http_connection::send(http::request<http::string_body>& request) {
  request.prepare_payload();
  lowest().expires_after(timeouts_.first_byte);
  auto write = [&](auto& s) { return http::async_write(s, request, nothrow_awaitable); };
  auto [wec, written] = co_await std::visit(write, stream_);
  if (wec) co_return wec;

  parser_.emplace();
  parser_->body_limit(boost::none);  // streams are bounded by the translator, bodies by read_body
  buffer_.reserve(read_bytes);
  auto read = [&](auto& s) { return http::async_read_header(s, buffer_, *parser_, nothrow_awaitable); };
  auto [rec, header_bytes] = co_await std::visit(read, stream_);
  co_return rec;
}

awaitable<std::size_t> http_connection::read_some(const body_handler& on_body, error_code& ec) {
  ec = {};
  std::size_t got = 0;
  parser_->get().body() = [&](std::string_view piece) {
    got += piece.size();
    on_body(piece);
  };
  // A read may bring only framing (a chunk header) and no body bytes: read again.
  while (got == 0 && !parser_->is_done()) {
    // Beast reads as much as the buffer has room for (at least 512 bytes).
    buffer_.reserve(read_bytes);
    lowest().expires_after(timeouts_.idle);
    auto read = [&](auto& s) { return http::async_read_some(s, buffer_, *parser_, nothrow_awaitable); };
    auto [rec, n] = co_await std::visit(read, stream_);
    if (rec) {
      ec = rec;
      break;
    }
    // Beast parses one chunk per call; the rest of a burst is already buffered. Hand it over
    // now, so one read makes one relay pass. A partial chunk at the end waits for the next read
    // (an eager parser would wait for it inside this one, holding back what is complete).
    while (buffer_.size() > 0 && !parser_->is_done()) {
      error_code pec;
      const std::size_t used = parser_->put(buffer_.data(), pec);
      buffer_.consume(used);
      if (pec == http::error::need_more || used == 0) break;
      if (pec) {
        ec = pec;
        break;
      }
    }
    if (ec) break;
  }
  parser_->get().body() = nullptr;
  co_return got;
}

awaitable<error_code> http_connection::read_body(std::string& out, std::size_t limit) {
  bool over = false;
  const body_handler append = [&](std::string_view piece) {
    over = over || out.size() + piece.size() > limit;
    if (!over) out.append(piece);
  };
  for (;;) {
    error_code ec;
    const std::size_t n = co_await read_some(append, ec);
    if (over) co_return http::error::body_limit;
    if (ec) co_return ec;
    if (n == 0) co_return error_code{};
  }
}

}  // namespace zai::server
