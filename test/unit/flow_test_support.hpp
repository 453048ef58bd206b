// Test support for the completion flow's tests: a gateway with its pool minted, a host's
// upkeep, and a driver that feeds an upstream body in pieces and collects what was written.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/flow/completion_flow.hpp"
#include "native/hmac_openssl.hpp"
#include "stream_test_support.hpp"

namespace zai::testing {

using namespace std::chrono_literals;

inline constexpr std::int64_t t0 = 1'780'000'000'000;  // ms since the epoch
inline constexpr std::string_view jwt =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjhmMzY4YzFiLWM2NDUtNDhjNy05NmIwLTI0NTZhY2M1MG"
    "I3OSIsImVtYWlsIjoiZ3Vlc3QtMTc4MjQxMzI0MTE0N0BndWVzdC5jb20ifQ.c2ln";
inline const std::string block_page = "<!DOCTYPE html><html><title>405</title>errors.aliyun.com</html>";

inline instant at(std::int64_t ms) { return steady_at(ms); }

inline config test_config(int pool_size) {
  config cfg;
  cfg.zai_base_url = http_url{"http", "127.0.0.1", 8089, "", ""};
  cfg.zai_fe_version = "prod-fe-1.1.98";  // no scrape jobs unless a test clears it
  cfg.token_pool_size = pool_size;
  cfg.api_keys = {"k"};
  return cfg;
}

inline std::string auth_body() {
  return R"({"id":"8f368c1b-c645-48c7-96b0-2456acc50b79","name":"Guest-1","email":"g@guest.com","token":")" +
         std::string(jwt) + "\"}";
}

// Runs every due upkeep job as a host would: mints answered 200 with a guest, scrapes with a
// front page naming `version`. Returns how many mints ran.
inline int upkeep_all(gateway& g, std::int64_t now, std::string_view version = "prod-fe-1.1.98") {
  int mints = 0;
  for (const upkeep_job& job : g.upkeep(at(now))) {
    if (job.what == upkeep_job::kind::mint) {
      EXPECT_EQ(g.upstream_url(job.request), "http://127.0.0.1:8089/api/v1/auths/");
      g.mint_done(job.slot, 200, auth_body(), at(now));
      ++mints;
    } else {
      g.scrape_done(200, "<script src=\"/frontend/" + std::string(version) + "/a.js\">", at(now));
    }
  }
  return mints;
}

inline std::string header(const plain_response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

// A gateway lock for one thread that fails the test when a gateway call takes it while it is
// held (a std::mutex would deadlock there) or releases it unheld.
struct checking_lock final : gateway_lock {
  void lock() override {
    EXPECT_FALSE(held) << "the gateway took its lock twice";
    held = true;
    ++taken;
  }
  void unlock() override {
    EXPECT_TRUE(held) << "the gateway released a lock it did not hold";
    held = false;
  }
  bool held = false;
  int taken = 0;
};

// A gateway with its pool minted, and the client side of one completion on it.
struct flow_test : ::testing::Test {
  explicit flow_test(config cfg = test_config(1), gateway_lock* lock = nullptr)
      : g(std::move(cfg), 7, native::hmac_sha256, lock) {
    upkeep_all(g, t0);
  }

  std::unique_ptr<completion_flow> start(bool stream, std::int64_t now = t0) {
    const std::string body = std::string(R"({"model":"glm-4.7","stream":)") +
                             (stream ? "true" : "false") +
                             R"(,"messages":[{"role":"user","content":"Hello"}]})";
    auto opened = g.open({"POST", "/v1/chat/completions", "Bearer k", ""}, body, false, at(now));
    EXPECT_TRUE(opened.flow) << (opened.response ? opened.response->body : "");
    return std::move(opened.flow);
  }

  // Feeds a whole upstream body in 7-byte pieces until the flow stops reading or writing;
  // collects what it wrote (the head's bytes included) and returns the last action.
  action feed(completion_flow& c, std::string_view body, std::int64_t now = t0) {
    action a = action::read;
    std::size_t pos = 0;
    for (;;) {
      switch (a) {
        case action::read:
          if (pos < body.size()) {
            c.feed(body.substr(pos, 7));
            pos += 7;
            a = c.next(at(now));
          } else {
            a = c.on_end(false, at(now));
          }
          break;
        case action::stream_start:
        case action::write:
          written += c.bytes();
          a = c.next(at(now));
          break;
        case action::end_stream:
          written += c.bytes();
          return a;
        default: return a;
      }
    }
  }

  std::size_t leases() { return g.pool().stats(at(t0).steady).in_flight; }

  gateway g;
  std::string written;
};

}  // namespace zai::testing
