// An HTTP/1.1 client connection for the upstream, the guest-token endpoint and the captcha
// provider: plain TCP for http:// bases (tests), TLS with certificate and host-name verification
// against the system CA store for https://. Each phase has its own deadline (connect, first byte,
// idle gap between body reads), and the response body is handed over piece by piece, straight
// from the read buffer, so a stream can be relayed as it arrives without a copy. Over plain TCP
// a connection holds no read buffer while it waits: the bytes are read into one buffer per
// event loop once they have arrived. cancel() closes the socket, which aborts whatever is
// pending.
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

  // Writes the request and reads the response header. The request is freed once written: the
  // header may be a while coming (the upstream thinks first), and it is not needed again.
  awaitable<error_code> send(http::request<http::string_body> request);

  unsigned status() const { return parser_->get().result_int(); }
  const http::fields& headers() const { return parser_->get().base(); }
  // Frees the response's header fields (about 1 KB) once the caller has read what it needs:
  // a stream holds them for its whole life otherwise. status() and keep_alive() still answer.
  void drop_headers() { parser_->get().base().clear(); }
  bool body_done() const { return parser_->is_done(); }
  bool keep_alive() const { return parser_->keep_alive(); }

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

  // One step of reading the response into the parser (which hands body bytes to the body
  // handler), within the stream's deadline; with `header_only` it stops once the header is
  // complete and keeps what follows for the body reads.
  awaitable<error_code> read_step(bool header_only);
  awaitable<error_code> read_step_tls(bool header_only);
  // After the one-byte wait: reads what else has arrived into the loop's buffer and parses it.
  void take_arrived(beast::tcp_stream& plain, char first, bool header_only, error_code& ec);
  // Parses the bytes left over from an earlier read; false when the parser took none of them
  // (it needs more from the socket).
  bool parse_kept(bool header_only, error_code& ec);
  // Feeds bytes to the parser until it needs more (or the header is done); returns the count it
  // took, and a parse error in `ec`.
  std::size_t parse(const char* data, std::size_t size, bool header_only, error_code& ec);
  // Keeps `data` (unparsed bytes) in buffer_, sized to fit: no capacity beyond them is held.
  void keep(const char* data, std::size_t size);

  // Bytes asked of one socket read: one page, like nginx's proxy_buffer_size; a larger answer
  // takes a few reads.
  static constexpr std::size_t read_bytes = 4096;

  ssl::context& tls_;
  endpoint where_;
  client_timeouts timeouts_;
  std::variant<plain_stream, tls_stream> stream_;
  // TLS: the read buffer, held while a read waits (Asio's TLS stream keeps its own record
  // buffers anyway). Plain TCP: only the bytes the parser has not taken yet (part of a chunk
  // header), usually none, so a waiting stream holds no buffer.
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<handed_body>> parser_;
  bool reused_ = false;
};

}  // namespace zai::server
