#include "recent_ids.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

TEST(RecentIds, GivesBackTheFirstIdOfAKey) {
  RecentIds ids(10);
  ids.remember("order-1", "job-a");
  ids.remember("order-1", "job-b");
  EXPECT_EQ(ids.find("order-1"), "job-a");
  EXPECT_EQ(ids.find("order-2"), std::nullopt);
}

TEST(RecentIds, ForgetsTheLeastRecentlyUsedPastItsCapacity) {
  RecentIds ids(2);
  ids.remember("a", "1");
  ids.remember("b", "2");
  EXPECT_EQ(ids.find("a"), "1");  // a is now the most recent
  ids.remember("c", "3");
  EXPECT_EQ(ids.find("b"), std::nullopt);
  EXPECT_EQ(ids.find("a"), "1");
  EXPECT_EQ(ids.find("c"), "3");
}

}  // namespace
}  // namespace sluice::ops
