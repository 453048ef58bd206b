// Guest-token payload decoding on arbitrary tokens: `decode_jwt_payload`, and the guest-auth
// answer that carries the token (`parse_guest_auth_response`, which falls back to the payload
// for the user id).
//
// Input: when it starts with '{' it is a payload's JSON, sent base64url-encoded (no padding) in
// the middle of a token, so the fuzzer explores the JSON rather than the Base64; otherwise it is
// the token itself. What must hold:
//   - a refusal is errc::upstream_error with a message;
//   - an accepted payload has a non-empty id, and when the payload's `id` is a non-empty string,
//     that is the id;
//   - a guest answer `{"token": <token>}` that is accepted takes its user id and email from the
//     payload, exactly as decode_jwt_payload read them.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/encoding.hpp"
#include "core/zai/jwt.hpp"
#include "core/zai/request.hpp"
#include "fuzz_support.hpp"

namespace zai::fuzz {
namespace {

std::string base64url(std::string_view bytes) {
  std::string out = base64_encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// The payload's own `id`, when it is a non-empty string (the claim decode_jwt_payload prefers).
std::string stated_id(std::string_view payload_json) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(payload_json, ec);
  if (ec || !v.is_object()) return {};
  const boost::json::value* id = v.as_object().if_contains("id");
  if (id == nullptr || !id->is_string()) return {};
  return std::string(id->as_string());
}

}  // namespace
}  // namespace zai::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zai;
  using namespace zai::fuzz;
  const std::string_view input = as_text(data, size);
  const bool payload_mode = input.starts_with('{');
  const std::string token =
      payload_mode ? "eyJhbGciOiJFUzI1NiJ9." + base64url(input) + ".c2ln" : std::string(input);

  const result<jwt_claims> claims = decode_jwt_payload(token);
  if (claims.has_error()) {
    require(claims.error().code == errc::upstream_error, "a refused token is upstream_error");
    require(!claims.error().message.empty(), "a refusal says why");
  } else {
    require(!claims->id.empty(), "an accepted payload has an id");
    if (payload_mode) {
      const std::string id = stated_id(input);
      require(id.empty() || claims->id == id, "the payload's id is the id", claims->id);
    }
  }

  // The guest-auth answer only carries the token; everything else comes from its payload.
  std::string answer = "{\"token\":";
  answer += boost::json::serialize(boost::json::string(token));
  answer += '}';
  const result<guest_token> guest = parse_guest_auth_response(answer);
  if (guest.has_value()) {
    require(claims.has_value(), "a guest answer is accepted only with a usable payload", token);
    require(guest->jwt == token, "the guest keeps its token", token);
    require(guest->user_id == claims->id && guest->email == claims->email,
            "the guest's id and email are the payload's", token);
  } else {
    require(guest.error().code == errc::upstream_error, "a refused answer is upstream_error");
  }
  return 0;
}
