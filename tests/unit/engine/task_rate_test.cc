#include "task_rate.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

TEST(TaskRate, TheFirstRateSeenIsTakenWhole) {
  TaskRate rate;
  rate.sample(0);  // nothing ended yet: still unmeasured
  EXPECT_EQ(rate.per_second(), 0);
  rate.sample(2000);
  EXPECT_DOUBLE_EQ(rate.per_second(), 2000);
}

TEST(TaskRate, LaterSamplesWeighAFifthCorrectedForTheStart) {
  TaskRate rate;
  rate.sample(1000);
  rate.sample(0);  // (0.16 * 1000 + 0.2 * 0) / 0.36
  EXPECT_NEAR(rate.per_second(), 444.44, 0.01);
  for (int i = 0; i < 100; ++i) rate.sample(300);
  EXPECT_NEAR(rate.per_second(), 300, 0.01);
}

}  // namespace
}  // namespace sluice::engine
