#include "core/api/response_store.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

stored_response entry(std::string id, std::size_t text_bytes = 10) {
  chat_message m;
  m.role = message_role::user;
  m.text = std::string(text_bytes, 'x');
  return stored_response{std::move(id), "{}", {m}};
}

TEST(response_store, keeps_and_finds_a_response) {
  response_store store;
  store.put(entry("resp_a"), 0);
  const stored_response* r = store.find("resp_a", 1);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->body, "{}");
  ASSERT_EQ(r->conversation.size(), 1u);
  EXPECT_EQ(store.find("resp_b", 1), nullptr);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.bytes(), response_store::size_of(entry("resp_a")));
}

TEST(response_store, drops_the_oldest_past_the_count) {
  response_store store({.max_count = 2, .max_age_ms = 1e9, .max_bytes = 1 << 20});
  store.put(entry("resp_1"), 0);
  store.put(entry("resp_2"), 1);
  store.put(entry("resp_3"), 2);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find("resp_1", 3), nullptr);
  EXPECT_NE(store.find("resp_2", 3), nullptr);
  EXPECT_NE(store.find("resp_3", 3), nullptr);
}

TEST(response_store, forgets_a_response_older_than_the_maximum_age) {
  response_store store({.max_count = 10, .max_age_ms = 1000, .max_bytes = 1 << 20});
  store.put(entry("resp_old"), 0);
  store.put(entry("resp_new"), 900);
  EXPECT_NE(store.find("resp_old", 1000), nullptr);  // exactly the maximum age: still there
  EXPECT_EQ(store.find("resp_old", 1001), nullptr);
  EXPECT_NE(store.find("resp_new", 1001), nullptr);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.bytes(), response_store::size_of(entry("resp_new")));
}

TEST(response_store, drops_the_oldest_to_stay_under_the_byte_cap) {
  const std::size_t one = response_store::size_of(entry("resp_1", 1000));
  response_store store({.max_count = 100, .max_age_ms = 1e9, .max_bytes = 2 * one + one / 2});
  store.put(entry("resp_1", 1000), 0);
  store.put(entry("resp_2", 1000), 0);
  store.put(entry("resp_3", 1000), 0);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_LE(store.bytes(), 2 * one + one / 2);
  EXPECT_EQ(store.find("resp_1", 0), nullptr);
  EXPECT_NE(store.find("resp_3", 0), nullptr);
}

TEST(response_store, never_keeps_an_entry_larger_than_the_byte_cap) {
  response_store store({.max_count = 100, .max_age_ms = 1e9, .max_bytes = 4096});
  store.put(entry("resp_small"), 0);
  store.put(entry("resp_huge", 100'000), 0);
  EXPECT_EQ(store.find("resp_huge", 0), nullptr);
  EXPECT_NE(store.find("resp_small", 0), nullptr);  // and it pushed nothing else out
}

TEST(response_store, counts_every_message_and_call_in_the_size) {
  stored_response r = entry("resp_a", 0);
  const std::size_t bare = response_store::size_of(r);
  chat_message turn;
  turn.role = message_role::assistant;
  turn.tool_calls.push_back(tool_call{"call_1", "read", std::string(500, 'a'), tool_kind::function});
  r.conversation.push_back(turn);
  EXPECT_GE(response_store::size_of(r), bare + 500);
}

TEST(response_store, storing_an_id_again_replaces_the_entry) {
  response_store store;
  store.put(entry("resp_a", 10), 0);
  store.put(entry("resp_a", 20), 5);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.find("resp_a", 5)->conversation[0].text.size(), 20u);
  EXPECT_EQ(store.bytes(), response_store::size_of(entry("resp_a", 20)));
}

TEST(response_store, a_zero_count_disables_storing) {
  response_store store({.max_count = 0, .max_age_ms = 1e9, .max_bytes = 1 << 20});
  EXPECT_FALSE(store.enabled());
  store.put(entry("resp_a"), 0);
  EXPECT_EQ(store.find("resp_a", 0), nullptr);
}

TEST(response_store, erase_forgets_an_entry) {
  response_store store;
  store.put(entry("resp_a"), 0);
  EXPECT_TRUE(store.erase("resp_a"));
  EXPECT_FALSE(store.erase("resp_a"));
  EXPECT_EQ(store.find("resp_a", 0), nullptr);
  EXPECT_EQ(store.bytes(), 0u);
}

TEST(response_store, options_come_from_the_config) {
  config cfg;
  cfg.responses_store_max = 7;
  cfg.responses_store_max_age_seconds = 60;
  cfg.responses_store_max_bytes = 1234;
  const response_store_options o = responses_store_options(cfg);
  EXPECT_EQ(o.max_count, 7u);
  EXPECT_EQ(o.max_age_ms, 60'000);
  EXPECT_EQ(o.max_bytes, 1234u);
}

}  // namespace
}  // namespace zai
