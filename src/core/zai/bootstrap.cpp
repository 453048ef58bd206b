// The session bootstrap requests of zai_request.hpp (reference §3.1): the front page that names
// the current front-end build, and the guest-token mint.
#include <array>
#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "core/zai/jwt.hpp"
#include "core/zai/request.hpp"

namespace zai {
namespace {

constexpr std::string_view accept_language = "en-US,en;q=0.9";

api_error bad_auth_response(std::string_view why) {
  return make_error(errc::upstream_error,
                    "Z.AI's guest sign-in answered unexpectedly: " + std::string(why) + ".");
}

// JWTs are base64url segments joined by dots; anything else would also be unsafe in a header.
bool looks_like_jwt(std::string_view token) {
  if (token.empty()) return false;
  for (char c : token) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '=' || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// The first non-empty string (or integer) among `keys`, looked up in the answer's top level and
// then in its `user` object (the two shapes reference §1.2 has seen).
std::string first_text(const boost::json::object& root,
                       std::initializer_list<std::string_view> keys) {
  const boost::json::value* user_value = root.if_contains("user");
  const boost::json::object* user = user_value != nullptr ? user_value->if_object() : nullptr;
  for (const boost::json::object* o : {&root, user}) {
    if (o == nullptr) continue;
    for (std::string_view key : keys) {
      const boost::json::value* v = o->if_contains(key);
      if (v == nullptr) continue;
      if (const boost::json::string* s = v->if_string(); s != nullptr && !s->empty()) {
        return std::string(*s);
      }
      if (const std::int64_t* i = v->if_int64()) return std::to_string(*i);
    }
  }
  return {};
}

// A GET the way the web app's browser would send it, minus cookies.
upstream_request browser_get(const config& cfg, std::string_view path, std::string_view accept) {
  upstream_request out;
  out.method = "GET";
  out.target = cfg.zai_base_url.path + std::string(path);
  out.headers = {
      {"Accept", std::string(accept)},
      {"Accept-Encoding", "identity"},
      {"Accept-Language", std::string(accept_language)},
      {"User-Agent", cfg.zai_user_agent},
  };
  return out;
}

}  // namespace

upstream_request build_guest_auth_request(const config& cfg, std::string_view fe_version) {
  const http_url& base = cfg.zai_base_url;
  upstream_request out = browser_get(cfg, "/api/v1/auths/", "application/json");
  out.headers.emplace_back("Origin", base.origin());
  out.headers.emplace_back("Referer", base.origin() + base.path + "/");
  if (!fe_version.empty() && is_header_safe(fe_version)) {
    out.headers.emplace_back("X-FE-Version", std::string(fe_version));
  }
  return out;
}

result<guest_token> parse_guest_auth_response(std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(body, ec);
  const boost::json::object* root = ec ? nullptr : parsed.if_object();
  if (root == nullptr) return bad_auth_response("not a JSON object");

  guest_token out;
  out.jwt = first_text(*root, {"token"});
  if (out.jwt.empty()) return bad_auth_response("no token");
  if (!looks_like_jwt(out.jwt)) return bad_auth_response("the token is not a JWT");

  const result<jwt_claims> claims = decode_jwt_payload(out.jwt);
  out.user_id = first_text(*root, {"id", "user_id", "uid", "sub"});
  if (out.user_id.empty() && claims.has_value()) out.user_id = claims->id;
  if (out.user_id.empty()) return bad_auth_response("no user id in the answer or the token");

  out.email = first_text(*root, {"email"});
  if (out.email.empty() && claims.has_value()) out.email = claims->email;
  out.name = first_text(*root, {"name"});
  if (out.name.empty()) out.name = "Guest";
  return out;
}

upstream_request build_front_page_request(const config& cfg) {
  return browser_get(cfg, "/", "text/html,application/xhtml+xml");
}

std::optional<std::string> scrape_fe_version(std::string_view html) {
  constexpr std::string_view prefix = "prod-fe-";
  std::optional<std::array<std::uint64_t, 3>> best;
  std::string best_text;
  for (std::size_t at = html.find(prefix); at != std::string_view::npos;
       at = html.find(prefix, at + 1)) {
    std::array<std::uint64_t, 3> parts{};
    std::size_t i = at + prefix.size();
    bool ok = true;
    for (std::size_t part = 0; part < 3 && ok; ++part) {
      if (part > 0) ok = i < html.size() && html[i++] == '.';
      std::size_t digits = 0;
      // Nine digits keep the number far from overflow; real builds have one to three.
      while (ok && i < html.size() && html[i] >= '0' && html[i] <= '9' && digits < 9) {
        parts[part] = parts[part] * 10 + std::uint64_t(html[i++] - '0');
        ++digits;
      }
      ok = ok && digits > 0;
    }
    // "prod-fe-1.1.98x" or "…1.1.9812345678" is not a version we recognise.
    const bool clean_end = i >= html.size() || !(html[i] >= '0' && html[i] <= '9');
    if (!ok || !clean_end) continue;
    if (!best || parts > *best) {
      best = parts;
      best_text = std::string(html.substr(at, i - at));
    }
  }
  if (!best) return std::nullopt;
  return best_text;
}

}  // namespace zai
