#include "native/hmac_openssl.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace zai::native {

hmac_digest hmac_sha256(std::string_view key, std::string_view message) {
  hmac_digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return out;
}

}  // namespace zai::native
