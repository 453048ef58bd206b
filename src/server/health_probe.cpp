// The container health probe: one blocking HTTP/1.1 request over a plain POSIX socket with a
// deadline. Deliberately not Asio/Beast: it runs every few seconds in a fresh process, and a poll()
// loop is all it needs.
#include "server/health_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace zai::server {
namespace {

using clock = std::chrono::steady_clock;

// Well inside the HEALTHCHECK/probe timeouts the deployment files set (3 s and more).
constexpr std::chrono::milliseconds probe_deadline{2000};

int fail(const std::string& where, const std::string& why) {
  std::fprintf(stderr, "zai-proxy --health-probe: %s: %s\n", where.c_str(), why.c_str());
  return 1;
}

// The server listens on cfg.host; a wildcard is reached through loopback.
std::string probe_address(const std::string& host) {
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "::1";
  in6_addr v6{};
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return host;
  return "127.0.0.1";  // a host name such as "localhost"
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

class socket_fd {
 public:
  explicit socket_fd(int fd) : fd_(fd) {}
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  ~socket_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

int probe(const std::string& address, std::uint16_t port) {
  const std::string where = (address.find(':') != std::string::npos ? "[" + address + "]" : address) +
                            ":" + std::to_string(port);
  const auto deadline = clock::now() + probe_deadline;

  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  if (auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
      inet_pton(AF_INET, address.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    addr_len = sizeof(sockaddr_in);
  } else if (auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
             inet_pton(AF_INET6, address.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    addr_len = sizeof(sockaddr_in6);
  } else {
    return fail(where, "not an IP address");
  }

  socket_fd s(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return fail(where, std::strerror(errno));
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0) {
    if (errno != EINPROGRESS) return fail(where, std::strerror(errno));
    if (!wait_for(s.get(), POLLOUT, deadline)) return fail(where, "connect timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(where, std::strerror(err));
  }

  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: " + where + "\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    if (!wait_for(s.get(), POLLOUT, deadline)) return fail(where, "send timed out");
    const ssize_t n = ::send(s.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return fail(where, std::strerror(errno));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }

  // Only the status line matters: "HTTP/1.1 200 OK\r\n".
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 512) {
    if (!wait_for(s.get(), POLLIN, deadline)) return fail(where, "no answer in time");
    char buf[512];
    const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return fail(where, std::strerror(errno));
    }
    head.append(buf, static_cast<std::size_t>(n));
  }
  const std::string line = head.substr(0, head.find("\r\n"));
  if (!line.starts_with("HTTP/1.") || line.size() < 12)
    return fail(where, "not an HTTP answer");
  if (line.compare(9, 3, "200") != 0) return fail(where, "GET /healthz answered " + line.substr(9));
  return 0;
}

}  // namespace

bool wants_health_probe(std::span<const std::string_view> args) {
  return std::find(args.begin(), args.end(), health_probe_flag) != args.end();
}

int run_health_probe(std::span<const std::string_view> args) {
  std::vector<std::string_view> rest;
  std::copy_if(args.begin(), args.end(), std::back_inserter(rest),
               [](std::string_view a) { return a != health_probe_flag; });
  const auto env = [](std::string_view name) -> std::optional<std::string> {
    if (const char* v = std::getenv(std::string(name).c_str())) return std::string(v);
    return std::nullopt;
  };
  const auto read_file = [](std::string_view path) -> std::optional<std::string> {
    std::ifstream in{std::string(path), std::ios::binary};
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // The same settings as the server, so the probe finds the port the server chose.
  const auto cfg = parse_config(env, rest, read_file);
  if (!cfg) return fail("configuration", cfg.error());
  if (cfg->port == 0) return fail("configuration", "PORT 0 (any free port) cannot be probed");
  return probe(probe_address(cfg->host), cfg->port);
}

}  // namespace zai::server
