#include "core/zai/jwt.hpp"

#include <boost/json.hpp>

#include "core/encoding.hpp"

namespace zai {
namespace {

api_error bad_token(std::string_view why) {
  return make_error(errc::upstream_error, "The guest token is unusable: " + std::string(why) + ".");
}

// A claim as text: strings as they are, integers in decimal (some issuers use numeric ids).
std::string claim_text(const boost::json::object& payload, std::string_view key) {
  const boost::json::value* v = payload.if_contains(key);
  if (v == nullptr) return {};
  if (const boost::json::string* s = v->if_string()) return std::string(*s);
  if (const std::int64_t* i = v->if_int64()) return std::to_string(*i);
  if (const std::uint64_t* u = v->if_uint64()) return std::to_string(*u);
  return {};
}

}  // namespace

result<jwt_claims> decode_jwt_payload(std::string_view jwt) {
  const std::size_t first = jwt.find('.');
  const std::size_t second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos) {
    return bad_token("not a JWT (expected three dot-separated parts)");
  }
  const std::string_view encoded = jwt.substr(first + 1, second - first - 1);
  const std::optional<std::string> decoded = base64_decode(encoded);
  if (!decoded || encoded.empty()) return bad_token("its payload is not base64url");

  boost::system::error_code ec;
  const boost::json::value payload = boost::json::parse(*decoded, ec);
  const boost::json::object* object = ec ? nullptr : payload.if_object();
  if (object == nullptr) return bad_token("its payload is not a JSON object");

  jwt_claims claims;
  for (std::string_view key : {"id", "user_id", "uid", "sub"}) {
    claims.id = claim_text(*object, key);
    if (!claims.id.empty()) break;
  }
  if (claims.id.empty()) return bad_token("its payload has no id");
  claims.email = claim_text(*object, "email");
  return claims;
}

}  // namespace zai
