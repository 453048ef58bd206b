#include "core/zai/signature.hpp"

#include <gtest/gtest.h>

#include "core/encoding.hpp"
#include "native/hmac_openssl.hpp"

namespace zai {
namespace {

signature_parts sign(std::string_view prompt, std::string_view rid, std::uint64_t ts,
                     std::string_view uid) {
  return sign_request({rid, ts, uid, prompt}, default_signing_secret, native::hmac_sha256);
}

// The native HMAC against RFC 4231 (test cases 2 and 6: a short key, a key longer than a block).
TEST(signature, native_hmac_matches_rfc_4231) {
  EXPECT_EQ(hex_lower(native::hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex_lower(native::hmac_sha256(std::string(131, '\xaa'),
                                          "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(signature, reproduces_reference_vector_a) {
  const auto p = sign("hello", "req123", 1700000000000, "user456");
  EXPECT_EQ(p.derived_key, "e37c98fb931005cbfac88fc6d9f09a459c0645f25d89a6c059f56417af6f260b");
  EXPECT_EQ(p.string_to_sign,
            "requestId,req123,timestamp,1700000000000,user_id,user456|aGVsbG8=|1700000000000");
  EXPECT_EQ(p.signature, "f5272eee580c691659817cd55f6e9da5c45dadf9af3e29db915f600f5b283f81");
}

TEST(signature, reproduces_reference_vector_b) {
  const auto p = sign("Hello, what model are you running?", "0ff3803e-c36e-4bfd-98fe-fa55e0f955b1",
                      1782413241147, "8f368c1b-c645-48c7-96b0-2456acc50b79");
  EXPECT_EQ(p.derived_key, "3c9cedb9c59792ab5c92385479bbaad322b6c1ff13005e2f9cc1228c16594695");
  EXPECT_NE(p.string_to_sign.find("|SGVsbG8sIHdoYXQgbW9kZWwgYXJlIHlvdSBydW5uaW5nPw==|"),
            std::string::npos);
  EXPECT_EQ(p.signature, "4eaf0e68237e3dea018d5fadcbabb1472e11c2ed35412aedbcba1476d2fe9d22");
}

TEST(signature, reproduces_reference_vector_c_with_utf8_prompt) {
  const auto p = sign("你好", "c0ffee00-0000-4000-8000-000000000001", 1782413241147,
                      "8f368c1b-c645-48c7-96b0-2456acc50b79");
  EXPECT_NE(p.string_to_sign.find("|5L2g5aW9|"), std::string::npos);
  EXPECT_EQ(p.signature, "c40ebd54303bfc29ddc3893397b8d5bfa7a2a5aecda02cb1c50bd19bd7fe1b37");
}

TEST(signature, reproduces_reference_vector_d_at_bucket_boundary) {
  const auto p = sign("hello", "req123", 1700000299999, "user456");
  EXPECT_EQ(p.derived_key, "02206e13ee80e88ccb278c5e704b34a0afac5e9f8a0cfaffe9b91d3f5769e4d7");
  EXPECT_EQ(p.signature, "6e9796b16f50f39078b03dce84c4dd6f1b8cf23c5fbc13d77a6449b6f7a2f86b");
}

TEST(signature, legacy_secret_changes_the_signature) {
  const auto p = sign_request({"req123", 1700000000000, "user456", "hello"}, "junjie",
                              native::hmac_sha256);
  EXPECT_EQ(p.signature, "6f83586b91acd34ebd5b1dae9cd384fce134150640a75c3ca5b602f7ba362310");
}

TEST(encoding, base64_round_trips_every_length) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    const auto decoded = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, bytes);
    bytes += char(i * 37);
  }
}

TEST(encoding, base64_decode_accepts_url_alphabet_and_rejects_garbage) {
  EXPECT_EQ(base64_decode("-_8"), base64_decode("+/8="));
  EXPECT_FALSE(base64_decode("ab$c").has_value());
  EXPECT_FALSE(base64_decode("abcde").has_value());
}

TEST(encoding, form_urlencode_matches_url_search_params) {
  EXPECT_EQ(form_urlencode("Mozilla/5.0 (Windows NT 10.0; Win64)"),
            "Mozilla%2F5.0+%28Windows+NT+10.0%3B+Win64%29");
  EXPECT_EQ(form_urlencode("Z.ai - Free AI Chatbot & Agent"), "Z.ai+-+Free+AI+Chatbot+%26+Agent");
  EXPECT_EQ(form_urlencode("a*b_c~"), "a*b_c%7E");
}

}  // namespace
}  // namespace zai
