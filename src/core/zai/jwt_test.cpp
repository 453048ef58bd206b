#include "core/zai/jwt.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

// The reference's fixture token (§3.9); its payload needs two '=' of padding, which is absent.
constexpr std::string_view fixture_jwt =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpZCI6IjhmMzY4YzFiLWM2NDUtNDhjNy05NmIwLTI0NTZhY2M1MGI3OSIsImVtYWlsIjoiZ3Vlc3QtMTc4MjQxMzI0MT"
    "E0N0BndWVzdC5jb20ifQ."
    "<sig>";

std::string with_payload(std::string_view payload) {
  return "eyJhbGciOiJFUzI1NiJ9." + std::string(payload) + ".c2ln";
}

TEST(jwt, decodes_the_reference_fixture_without_padding) {
  const auto claims = decode_jwt_payload(fixture_jwt);
  ASSERT_TRUE(claims.has_value()) << claims.error().message;
  EXPECT_EQ(claims->id, "8f368c1b-c645-48c7-96b0-2456acc50b79");
  EXPECT_EQ(claims->email, "guest-1782413241147@guest.com");
}

TEST(jwt, accepts_padded_payloads) {
  const std::string padded = "a." + std::string(fixture_jwt.substr(37, 114)) + "==.b";
  const auto claims = decode_jwt_payload(padded);
  ASSERT_TRUE(claims.has_value()) << claims.error().message;
  EXPECT_EQ(claims->id, "8f368c1b-c645-48c7-96b0-2456acc50b79");
}

TEST(jwt, falls_back_to_user_id_uid_and_sub) {
  EXPECT_EQ(decode_jwt_payload(with_payload("eyJ1c2VyX2lkIjoidS0xIn0"))->id, "u-1");
  EXPECT_EQ(decode_jwt_payload(with_payload("eyJ1aWQiOjEyMzQ1fQ"))->id, "12345");
  // base64url alphabet ('-') in the payload: {"sub":"s~?>"}
  EXPECT_EQ(decode_jwt_payload(with_payload("eyJzdWIiOiJzfj8-In0"))->id, "s~?>");
  // An empty id is no id: {"id":"","sub":"fallback"}
  EXPECT_EQ(decode_jwt_payload(with_payload("eyJpZCI6IiIsInN1YiI6ImZhbGxiYWNrIn0"))->id,
            "fallback");
}

TEST(jwt, rejects_malformed_tokens) {
  const std::string_view bad[] = {
      "",
      "not-a-jwt",
      "a.b",                       // two parts
      "a.eyJpZCI6IngifQ.c.d",      // four parts
      "a..c",                      // empty payload
      "a.@@@@.c",                  // not base64
      "a.bm90IGpzb24.c",           // "not json"
      "a.WzFd.c",                  // [1]: not an object
      "a.eyJlbWFpbCI6InhAeSJ9.c",  // {"email":"x@y"}: no id
  };
  for (std::string_view token : bad) {
    SCOPED_TRACE(token);
    const auto claims = decode_jwt_payload(token);
    ASSERT_TRUE(claims.has_error());
    EXPECT_EQ(claims.error().code, errc::upstream_error);
    EXPECT_FALSE(claims.error().message.empty());
  }
}

}  // namespace
}  // namespace zai
