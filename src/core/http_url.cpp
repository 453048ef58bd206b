#include "core/http_url.hpp"

#include <charconv>

#include "core/encoding.hpp"

namespace zai {
namespace {

// http_url is an aggregate that a std::string could initialise, so the error side is named.
result<http_url, std::string> fail(std::string why) {
  return {boost::system::in_place_error, std::move(why)};
}

}  // namespace

std::string http_url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls() ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string http_url::origin() const { return scheme + "://" + authority(); }

std::string http_url::target() const {
  std::string out = path.empty() ? "/" : path;
  if (!query.empty()) out += "?" + query;
  return out;
}

result<http_url, std::string> parse_http_url(std::string_view text) {
  http_url url;
  const std::string lowered = ascii_lower(text.substr(0, 8));
  if (lowered.starts_with("http://")) {
    url.scheme = "http";
  } else if (lowered.starts_with("https://")) {
    url.scheme = "https";
  } else {
    return fail("must start with http:// or https://");
  }
  text.remove_prefix(url.scheme.size() + 3);
  for (char c : text) {
    if (is_control(c) || c == ' ') return fail("must not contain spaces or control characters");
  }
  if (text.find('#') != std::string_view::npos) return fail("must not have a #fragment");
  const std::size_t authority_end = text.find_first_of("/?");
  std::string_view authority = text.substr(0, authority_end);
  std::string_view rest = authority_end == std::string_view::npos ? "" : text.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return fail("must not contain user info");

  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("has an unclosed IPv6 bracket");
    url.host = ascii_lower(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return fail("has a malformed host");
    if (!after.empty()) port_text = after.substr(1);
    if (url.host.find_first_not_of("0123456789abcdef:.") != std::string::npos || url.host.empty()) {
      return fail("has a malformed IPv6 address");
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    url.host = ascii_lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (colon != std::string_view::npos && port_text.empty()) return fail("has an empty port");
    if (url.host.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-._") !=
        std::string::npos) {
      return fail("has a malformed host name");
    }
  }
  if (url.host.empty()) return fail("has no host");
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return fail("has a bad port (expected 1 to 65535)");
    }
    url.port = static_cast<std::uint16_t>(port);
  } else {
    url.port = url.tls() ? 443 : 80;
  }

  const std::size_t question = rest.find('?');
  std::string_view path = rest.substr(0, question);
  if (question != std::string_view::npos) url.query = std::string(rest.substr(question + 1));
  while (path.ends_with('/')) path.remove_suffix(1);
  url.path = std::string(path);
  return url;
}

}  // namespace zai
