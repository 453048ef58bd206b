// Reading the identity out of a Z.AI guest token. The token is an ES256 JWT whose payload is
// `{"id":"<uuid>","email":"guest-…@guest.com"}` with no expiry (reference §1.3). The proxy only
// needs the `id` (it is the `user_id` that is signed and sent in the query string), so the payload
// is decoded without verifying the signature: the upstream verifies it, and nothing here trusts it.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace zai {

struct jwt_claims {
  std::string id;     // `id`, else `user_id`, `uid`, `sub` (numbers are rendered as decimal text)
  std::string email;  // empty when absent
};

// Fails with errc::upstream_error when the token is not three dot-separated parts, the payload
// is not base64url (padding optional) JSON object, or it carries no usable id.
result<jwt_claims> decode_jwt_payload(std::string_view jwt);

}  // namespace zai
