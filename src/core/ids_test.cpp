#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace zai {
namespace {

TEST(ids, uuids_are_version_4_and_completion_ids_are_chatcmpl_hex) {
  id_generator ids(42);
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string u = ids.uuid();
    EXPECT_TRUE(std::regex_match(u, uuid)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_TRUE(std::regex_match(ids.prefixed("chatcmpl-"), std::regex("chatcmpl-[0-9a-f]{32}")));
}

TEST(ids, the_same_seed_gives_the_same_ids) {
  id_generator a(7), b(7);
  EXPECT_EQ(a.uuid(), b.uuid());
}

}  // namespace
}  // namespace zai
