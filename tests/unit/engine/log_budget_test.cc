#include "log_budget.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

using std::chrono::milliseconds;
const LogBudget::Clock::time_point kStart = LogBudget::Clock::time_point{} + std::chrono::hours(1);

TEST(LogBudget, AllowsNASecondAndCountsTheRestForTheNextSecond) {
  LogBudget budget(3);
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += budget.allow(kStart + milliseconds(i)) ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  EXPECT_EQ(budget.take_held_back(kStart + milliseconds(500)), 0u) << "the second is not over";
  EXPECT_EQ(budget.take_held_back(kStart + milliseconds(1000)), 7u);
  EXPECT_EQ(budget.take_held_back(kStart + milliseconds(1001)), 0u);
  EXPECT_TRUE(budget.allow(kStart + milliseconds(1002)));
}

}  // namespace
}  // namespace sluice::engine
