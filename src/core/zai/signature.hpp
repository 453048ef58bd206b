// The X-Signature that chat.z.ai requires on every completion (reference §2): a two-layer
// HMAC-SHA256 keyed by a 5-minute time bucket. The HMAC primitive comes from the host (OpenSSL
// natively, the Worker's crypto in wasm) so the core stays free of platform crypto.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace zai {

using hmac_digest = std::array<unsigned char, 32>;
using hmac_sha256_fn = hmac_digest (*)(std::string_view key, std::string_view message);

// The salt chat.z.ai's front end has used since 2025-10-21; configurable as ZAI_SIGNING_SECRET.
inline constexpr std::string_view default_signing_secret = "key-@@@@)))()((9))-xxxx&&&%%%%%";

struct signature_input {
  std::string_view request_id;
  std::uint64_t timestamp_ms = 0;
  std::string_view user_id;
  std::string_view prompt;  // exactly the bytes sent as body field `signature_prompt`
};

struct signature_parts {
  std::string derived_key;     // hex of HMAC(secret, bucket); its ASCII is the second key
  std::string string_to_sign;  // requestId,…,timestamp,…,user_id,…|base64(prompt)|timestamp
  std::string signature;       // 64 lowercase hex characters
};

signature_parts sign_request(const signature_input& in, std::string_view secret,
                             hmac_sha256_fn hmac);

}  // namespace zai
