// The native host's HMAC-SHA256 for the core's signer, from OpenSSL.
#pragma once

#include "core/zai/signature.hpp"

namespace zai::native {

hmac_digest hmac_sha256(std::string_view key, std::string_view message);

}  // namespace zai::native
