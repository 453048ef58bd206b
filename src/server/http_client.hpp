// An HTTP/1.1 client connection for the upstream, the guest-token endpoint and the captcha
// provider: plain TCP for http:// bases (tests), TLS with certificate and host-name verification
// against the system CA store for https://. Each phase has its own deadline (connect, first byte,
// idle gap between body reads), and the response body is read in pieces so a stream can be
// relayed as it arrives. cancel() closes the socket, which aborts whatever is pending.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "server/net.hpp"

namespace zai::server {

struct endpoint {
  bool tls = false;
  std::string host;
  std::string port;
};

struct client_timeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds first_byte{60'000};
  std::chrono::milliseconds idle{120'000};
};

class http_connection {
 public:
  http_connection(asio::any_io_executor executor, ssl::context& tls, endpoint where,
                  client_timeouts timeouts);

  // Resolves, connects and (for TLS) handshakes.
  awaitable<error_code> connect();

  // Writes the request and reads the response header.
  awaitable<error_code> send(http::request<http::string_body>& request);

  unsigned status() const { return parser_->get().result_int(); }
  const http::fields& headers() const { return parser_->get().base(); }
  bool body_done() const { return parser_->is_done(); }
  bool keep_alive() const { return parser_->get().keep_alive(); }

  // Reads the next piece of the body into `into`; returns the byte count. 0 with no error means
  // the body is complete.
  awaitable<std::size_t> read_some(std::span<char> into, error_code& ec);

  // Reads the rest of the body, failing with http::error::body_limit beyond `limit` bytes.
  awaitable<error_code> read_body(std::string& out, std::size_t limit);

  void cancel();
  bool is_open() const;

  // A connection that already carried a response and was kept alive for another.
  bool reused() const { return reused_; }
  void mark_reused() { reused_ = true; }
  void set_idle_timeout(std::chrono::milliseconds idle) { timeouts_.idle = idle; }
  const endpoint& where() const { return where_; }

 private:
  using plain_stream = beast::tcp_stream;
  using tls_stream = beast::ssl_stream<beast::tcp_stream>;

  beast::tcp_stream& lowest();

  ssl::context& tls_;
  endpoint where_;
  client_timeouts timeouts_;
  std::variant<plain_stream, tls_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  bool reused_ = false;
};

}  // namespace zai::server
