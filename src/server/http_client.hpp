// An HTTP/1.1 client connection for the upstream, the guest-token endpoint and the captcha
// provider: plain TCP for http:// bases (tests), TLS with certificate and host-name verification
// against the system CA store for https://. Each phase has its own deadline (connect, first byte,
// idle gap between body reads), and the response body is handed over piece by piece, straight
// from the read buffer, so a stream can be relayed as it arrives without a copy or a second
// buffer per connection. cancel() closes the socket, which aborts whatever is pending.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "server/net.hpp"

namespace zai::server {

struct endpoint {
  bool tls = false;
  std::string host;
  std::string port;
};

// Receives the response body as the parser finds it: views into the read buffer, valid only for
// the call.
using body_handler = std::function<void(std::string_view piece)>;

// A Beast body that passes each parsed piece to a body_handler instead of storing it.
struct handed_body {
  using value_type = body_handler;

  class reader {
   public:
    template <bool is_request, class Fields>
    reader(http::header<is_request, Fields>&, value_type& handler) : handler_(handler) {}
    void init(const boost::optional<std::uint64_t>&, error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        if (handler_) handler_(std::string_view(static_cast<const char*>(b.data()), b.size()));
        n += b.size();
      }
      return n;
    }
    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& handler_;
  };
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

  // Reads what has arrived of the body (one socket read of up to read_bytes) and hands it to
  // `on_body`; returns the body byte count. 0 with no error means the body is complete. With an
  // error, the bytes that came before it have been handed over already.
  awaitable<std::size_t> read_some(const body_handler& on_body, error_code& ec);

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

  // Bytes asked of one socket read. The buffer is held for the connection's life (it waits in
  // every paced stream), so it is one page, like nginx's proxy_buffer_size; a larger answer
  // takes a few reads.
  static constexpr std::size_t read_bytes = 4096;

  ssl::context& tls_;
  endpoint where_;
  client_timeouts timeouts_;
  std::variant<plain_stream, tls_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<handed_body>> parser_;
  bool reused_ = false;
};

}  // namespace zai::server
