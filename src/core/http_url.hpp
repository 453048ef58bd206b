// Base URLs the proxy talks to (ZAI_BASE_URL, CAPTCHA_PROVIDER_URL), taken apart once at start-up
// into what a client needs to connect and what the Z.AI request derives from them (Origin, Host,
// the browser-fingerprint `host`/`protocol`/`current_url` fields). Only http and https exist here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace zai {

// An http:// or https:// URL taken apart for a client that connects by host and port.
struct http_url {
  std::string scheme;      // "http" or "https" (lower case)
  std::string host;        // lower case; an IPv6 literal without its brackets
  std::uint16_t port = 0;  // explicit, else 80 / 443
  std::string path;        // "" or "/a/b", never a trailing '/'
  std::string query;       // after '?', without it; "" when none

  bool tls() const { return scheme == "https"; }
  std::string authority() const;  // host[:port], the port only when not the scheme's default
  std::string origin() const;     // scheme://authority
  std::string target() const;     // path (or "/") plus "?query" — a GET request-target

  bool operator==(const http_url&) const = default;
};

// Rejects other schemes, user info, fragments, a missing host, a bad port and any space or
// control character. The error is the reason only (no variable name).
result<http_url, std::string> parse_http_url(std::string_view text);

}  // namespace zai
