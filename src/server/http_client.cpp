#include "server/http_client.hpp"

#include <openssl/err.h>

#include <vector>

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
  // For read_step's read of what has arrived, which must never block the event loop.
  error_code nbec;
  lowest().socket().non_blocking(true, nbec);
  if (nbec) co_return nbec;

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

awaitable<error_code> http_connection::send(http::request<http::string_body> request) {
  request.prepare_payload();
  lowest().expires_after(timeouts_.first_byte);
  auto write = [&](auto& s) { return http::async_write(s, request, nothrow_awaitable); };
  auto [wec, written] = co_await std::visit(write, stream_);
  if (wec) co_return wec;
  // Moved out to be freed (`request = {}` would keep the body's capacity).
  { const auto sent = std::move(request); }

  parser_.emplace();
  parser_->body_limit(boost::none);  // streams are bounded by the translator, bodies by read_body
  while (!parser_->is_header_done()) {
    if (const auto ec = co_await read_step(true)) co_return ec;
  }
  co_return error_code{};
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
    lowest().expires_after(timeouts_.idle);
    ec = co_await read_step(false);
    if (ec) break;
  }
  parser_->get().body() = nullptr;
  co_return got;
}

awaitable<error_code> http_connection::read_step(bool header_only) {
  error_code ec;
  if (parse_kept(header_only, ec) || ec) co_return ec;

  // TLS reads in a coroutine of their own: their frame is larger, and a plain stream waits in
  // this one.
  auto* plain = std::get_if<plain_stream>(&stream_);
  if (!plain) co_return co_await read_step_tls(header_only);

  // Plain TCP: wait for the next bytes with a one-byte read (it keeps the stream's deadline and
  // needs no buffer while it waits), then take what else has arrived without waiting.
  char first = 0;
  auto [rec, n] = co_await plain->async_read_some(asio::buffer(&first, 1), nothrow_awaitable);
  if (rec == asio::error::eof) {
    // As Beast's reads do: the end of a response that has no length, else a truncated one.
    if (!parser_->got_some()) co_return http::error::end_of_stream;
    parser_->put_eof(ec);
    co_return ec;
  }
  if (rec) co_return rec;
  take_arrived(*plain, first, header_only, ec);
  co_return ec;
}

// Nothing waits on the loop's buffer: it is filled and parsed with no suspension in between, so
// one per thread (per event loop) serves every connection on it. (Outside the coroutine, so
// that none of this is kept in its frame.)
void http_connection::take_arrived(plain_stream& plain, char first, bool header_only,
                                   error_code& ec) {
  thread_local std::vector<char> loop_buffer;
  const std::size_t kept = buffer_.size();
  if (loop_buffer.size() < kept + read_bytes) loop_buffer.resize(kept + read_bytes);
  char* const data = loop_buffer.data();
  asio::buffer_copy(asio::buffer(data, kept), buffer_.data());
  data[kept] = first;
  std::size_t size = kept + 1;
  // The socket is non-blocking (see connect): this returns at once. Its end or an error shows
  // again on the next wait, after these bytes are handed over.
  error_code ignored;
  size += plain.socket().read_some(asio::buffer(data + size, read_bytes - 1), ignored);
  const std::size_t used = parse(data, size, header_only, ec);
  keep(data + used, size - used);
}

// TLS: a read may suspend after taking bytes (the TLS stream decrypts record by record), so the
// buffer is the connection's own. Beast reads as much as it has room for.
awaitable<error_code> http_connection::read_step_tls(bool header_only) {
  auto& s = std::get<tls_stream>(stream_);
  buffer_.reserve(read_bytes);
  if (header_only) {
    auto [hec, n] = co_await http::async_read_header(s, buffer_, *parser_, nothrow_awaitable);
    co_return hec;
  }
  auto [rec, n] = co_await http::async_read_some(s, buffer_, *parser_, nothrow_awaitable);
  if (rec) co_return rec;
  // Beast parses one chunk per call; the rest of a burst is already buffered. Hand it over now,
  // so one read makes one relay pass. A partial chunk at the end waits for the next read (an
  // eager parser would wait for it inside this one, holding back what is complete).
  error_code ec;
  buffer_.consume(
      parse(static_cast<const char*>(buffer_.data().data()), buffer_.size(), header_only, ec));
  co_return ec;
}

bool http_connection::parse_kept(bool header_only, error_code& ec) {
  ec = {};
  if (buffer_.size() == 0 || parser_->is_done()) return false;
  if (header_only && parser_->is_header_done()) return false;
  // Only plain TCP keeps bytes between reads here; Beast's TLS reads parse their own first.
  if (!std::holds_alternative<plain_stream>(stream_)) return false;
  const std::size_t used =
      parse(static_cast<const char*>(buffer_.data().data()), buffer_.size(), header_only, ec);
  buffer_.consume(used);
  buffer_.shrink_to_fit();
  return used > 0;
}

std::size_t http_connection::parse(const char* data, std::size_t size, bool header_only,
                                   error_code& ec) {
  ec = {};
  std::size_t used = 0;
  while (used < size && !parser_->is_done() && !(header_only && parser_->is_header_done())) {
    error_code pec;
    const std::size_t n = parser_->put(asio::buffer(data + used, size - used), pec);
    used += n;
    if (pec == http::error::need_more || n == 0) break;
    if (pec) {
      ec = pec;
      break;
    }
  }
  return used;
}

void http_connection::keep(const char* data, std::size_t size) {
  buffer_.clear();
  buffer_.shrink_to_fit();
  if (size == 0) return;
  buffer_.commit(asio::buffer_copy(buffer_.prepare(size), asio::buffer(data, size)));
  buffer_.shrink_to_fit();
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
