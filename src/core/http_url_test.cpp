#include "core/http_url.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

http_url must_parse(std::string_view text) {
  const auto url = parse_http_url(text);
  EXPECT_TRUE(url.has_value()) << text << ": " << (url.has_error() ? url.error() : "");
  return url.has_value() ? *url : http_url{};
}

TEST(http_url, splits_the_default_upstream) {
  const http_url url = must_parse("https://chat.z.ai");
  EXPECT_EQ(url, (http_url{"https", "chat.z.ai", 443, "", ""}));
  EXPECT_TRUE(url.tls());
  EXPECT_EQ(url.origin(), "https://chat.z.ai");
  EXPECT_EQ(url.authority(), "chat.z.ai");
  EXPECT_EQ(url.target(), "/");
}

TEST(http_url, keeps_explicit_port_and_base_path_without_trailing_slash) {
  const http_url url = must_parse("HTTP://LocalHost:8080/zai/");
  EXPECT_EQ(url, (http_url{"http", "localhost", 8080, "/zai", ""}));
  EXPECT_EQ(url.origin(), "http://localhost:8080");
  EXPECT_EQ(must_parse("https://h:443/").authority(), "h");
}

TEST(http_url, keeps_the_query_for_get_targets) {
  const http_url url = must_parse("http://127.0.0.1:9000/captcha?scene=x&n=1");
  EXPECT_EQ(url.path, "/captcha");
  EXPECT_EQ(url.query, "scene=x&n=1");
  EXPECT_EQ(url.target(), "/captcha?scene=x&n=1");
  EXPECT_EQ(must_parse("http://h?x=1").target(), "/?x=1");
}

TEST(http_url, brackets_ipv6_hosts_only_in_the_authority) {
  const http_url url = must_parse("http://[::1]:3001");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.authority(), "[::1]:3001");
}

TEST(http_url, rejects_what_a_client_cannot_connect_to) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"ftp://x", "http:// or https://"},
      {"chat.z.ai", "http:// or https://"},
      {"https://", "no host"},
      {"https://:80", "no host"},
      {"https://user:pw@host", "user info"},
      {"https://host:0", "bad port"},
      {"https://host:65536", "bad port"},
      {"https://host:12x", "bad port"},
      {"https://host:", "empty port"},
      {"https://ho st", "spaces"},
      {"https://host/\r\nX: y", "control"},
      {"https://host/#frag", "fragment"},
      {"https://ho$t", "malformed host"},
      {"http://[::1", "unclosed"},
      {"http://[zz]", "IPv6"},
  };
  for (const auto& [text, why] : cases) {
    const auto url = parse_http_url(text);
    ASSERT_TRUE(url.has_error()) << text;
    EXPECT_NE(url.error().find(why), std::string::npos) << text << ": " << url.error();
  }
}

}  // namespace
}  // namespace zai
