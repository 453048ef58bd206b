#include "server/cpu_share.hpp"

#include <gtest/gtest.h>

namespace zai::server {
namespace {

TEST(cpu_share, a_cgroup_v2_quota_rounds_up_to_whole_cores) {
  EXPECT_EQ(cores_of_cpu_max("max 100000\n"), std::nullopt);
  EXPECT_EQ(cores_of_cpu_max("100000 100000\n"), 1u);
  EXPECT_EQ(cores_of_cpu_max("150000 100000\n"), 2u);
  EXPECT_EQ(cores_of_cpu_max("50000 100000"), 1u);  // half a core still runs one loop
  EXPECT_EQ(cores_of_cpu_max("400000 100000"), 4u);
  EXPECT_EQ(cores_of_cpu_max(""), std::nullopt);
  EXPECT_EQ(cores_of_cpu_max("garbage"), std::nullopt);
}

TEST(cpu_share, a_cgroup_v1_quota_of_minus_one_is_no_limit) {
  EXPECT_EQ(cores_of_cfs("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(cores_of_cfs("200000\n", "100000\n"), 2u);
  EXPECT_EQ(cores_of_cfs("250000\n", "100000\n"), 3u);
  EXPECT_EQ(cores_of_cfs("", ""), std::nullopt);
}

TEST(cpu_share, this_process_may_use_at_least_one_core) { EXPECT_GE(usable_cores(), 1u); }

}  // namespace
}  // namespace zai::server
