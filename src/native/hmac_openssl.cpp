#include "native/hmac_openssl.hpp"

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <memory>

namespace zai::native {

// HMAC() looks the algorithm up in OpenSSL's provider tables on every call (EVP_Q_mac), which
// cost more than the hashing of a request's two short messages. The MAC is fetched once and
// shared (OpenSSL's fetched objects are safe to share between threads); each thread keeps one
// context, given its digest once and a new key on every call.
hmac_digest hmac_sha256(std::string_view key, std::string_view message) {
  struct mac_deleter {
    void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
  };
  struct ctx_deleter {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
  };
  static const std::unique_ptr<EVP_MAC, mac_deleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  static const OSSL_PARAM params[] = {
      OSSL_PARAM_utf8_string("digest", const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_END,
  };
  thread_local const std::unique_ptr<EVP_MAC_CTX, ctx_deleter> ctx(
      mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  thread_local bool has_digest = false;
  hmac_digest out{};
  std::size_t len = 0;
  if (!ctx ||
      !EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                    has_digest ? nullptr : params) ||
      !EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(message.data()),
                      message.size()) ||
      !EVP_MAC_final(ctx.get(), out.data(), &len, out.size())) {
    // Only an OpenSSL without its default provider gets here; the one-shot call says the same.
    unsigned int one_shot_len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
         &one_shot_len);
    return out;
  }
  has_digest = true;
  return out;
}

}  // namespace zai::native
