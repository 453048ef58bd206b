// The listening side: accepts connections, reads requests under limits (header/body size and
// read deadlines, so a slow or oversized client is cut off with a precise error), hands each to
// the request handler, and shuts down gracefully — stop accepting, close idle keep-alive
// connections, let requests in flight finish within a grace period. There is one server per event
// loop (worker.hpp); each serves its connections on its own loop, and MAX_CONNECTIONS counts
// them all.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "server/net.hpp"

namespace zai::server {

struct server_limits {
  std::chrono::milliseconds header_timeout{30'000};  // whole header must arrive within this
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds keep_alive_idle{60'000};
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_connections = 10'000;
};

// One request being answered. The handler writes the response itself (a whole body or a stream)
// through `stream`; the fields below feed the access log.
struct exchange {
  beast::tcp_stream& stream;
  http::request<http::string_body> request;
  bool shutting_down = false;  // the response should carry Connection: close

  // Access-log fields, filled in by the handler.
  unsigned status = 0;
  std::string model{};
  int pool_slot = -1;
  std::chrono::steady_clock::time_point started{};
  std::chrono::steady_clock::time_point first_byte{};
};

// Returns false when the connection must not be reused (stream cut, client gone, error).
using request_handler = std::function<awaitable<bool>(exchange&)>;

// Answers a request the server refuses before any handler runs (400, 408, 413, 431, 503).
// `method` and `target` are the request's when its header was read (empty otherwise): the
// path decides the error's envelope (Anthropic's on /v1/messages).
using refusal_writer = std::function<http::response<http::string_body>(
    const api_error&, std::string_view method, std::string_view target)>;

// The client connections of every loop's server: MAX_CONNECTIONS is one process-wide cap.
struct connection_count {
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> turning_away{0};  // over-capacity connections being answered 503
};

class http_server {
 public:
  http_server(asio::io_context& io, server_limits limits, request_handler handler,
              refusal_writer refuse, connection_count& count);

  error_code listen(const std::string& host, unsigned short port);
  unsigned short port() const { return port_; }
  // Accepts, and serves each connection on the next of `servers` in turn, on its loop.
  void start(std::vector<http_server*> servers);

  // Stops accepting and closes idle connections; busy ones close after their current request.
  // On this server's loop.
  void stop_accepting();

 private:
  struct connection {
    beast::tcp_stream* stream = nullptr;
    bool busy = false;
  };

  awaitable<void> accept_loop(std::vector<http_server*> servers);
  void adopt(tcp::socket socket, bool over_capacity);  // from any loop
  awaitable<void> serve(tcp::socket socket);
  // The next request on the connection, or nullopt when the connection ends (the client left or
  // idled, or was refused). Its own coroutine so that serve()'s frame, held while an answer
  // streams, holds neither the parser nor the refusal's locals.
  awaitable<std::optional<http::request<http::string_body>>> read_request(
      beast::tcp_stream& stream, beast::flat_buffer& buffer, connection& self, bool first);
  awaitable<void> turn_away(tcp::socket socket);
  awaitable<void> refuse(beast::tcp_stream& stream, const api_error& why,
                         connection* self = nullptr, std::string_view method = {},
                         std::string_view target = {});

  asio::io_context& io_;
  server_limits limits_;
  request_handler handler_;
  refusal_writer refuse_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_ = false;  // read by the loop that hands connections out
  std::list<connection> connections_;
  connection_count& count_;
};

}  // namespace zai::server
