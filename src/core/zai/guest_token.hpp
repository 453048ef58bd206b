// An anonymous Z.AI guest session: the JWT minted by GET /api/v1/auths/ and what the proxy reads
// from it. Shared by the token pool (which hands tokens out) and the request builder (which
// signs with them). The JWT is a secret: it never appears in logs or /health.
#pragma once

#include <string>

namespace zai {

struct guest_token {
  std::string jwt;
  std::string user_id;  // JWT payload `id`: signed and sent as `user_id`
  std::string name;     // e.g. "Guest-1782413241147": the {{USER_NAME}} variable
  std::string email;
};

}  // namespace zai
