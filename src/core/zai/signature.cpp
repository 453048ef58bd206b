#include "core/zai/signature.hpp"

#include "core/encoding.hpp"

namespace zai {

signature_parts sign_request(const signature_input& in, std::string_view secret,
                             hmac_sha256_fn hmac) {
  const std::string timestamp = std::to_string(in.timestamp_ms);
  // The key rotates every five minutes; the server recomputes the bucket from `timestamp`.
  const std::string bucket = std::to_string(in.timestamp_ms / 300000);

  signature_parts parts;
  parts.derived_key = hex_lower(hmac(secret, bucket));

  // The three pairs sorted by key name always come out in this order.
  parts.string_to_sign.reserve(96 + in.prompt.size() * 4 / 3);
  parts.string_to_sign.append("requestId,").append(in.request_id);
  parts.string_to_sign.append(",timestamp,").append(timestamp);
  parts.string_to_sign.append(",user_id,").append(in.user_id);
  parts.string_to_sign.append("|").append(base64_encode(in.prompt));
  parts.string_to_sign.append("|").append(timestamp);

  // The second key is the hex *text* of the first digest, not its 32 raw bytes.
  parts.signature = hex_lower(hmac(parts.derived_key, parts.string_to_sign));
  return parts;
}

}  // namespace zai
