#include "wait_millis.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(WaitMillis, APartOfAMillisecondWaitsAWholeOne) {
  // Rounded down this was 0: the loop spun until the retry came due.
  EXPECT_EQ(wait_millis(microseconds(300), 100), 1);
  EXPECT_EQ(wait_millis(microseconds(2100), 100), 3);
}

TEST(WaitMillis, WholeMillisecondsStayAsTheyAre) {
  EXPECT_EQ(wait_millis(milliseconds(7), 100), 7);
}

TEST(WaitMillis, WhatIsDueWaitsNothing) {
  EXPECT_EQ(wait_millis(milliseconds(0), 100), 0);
  EXPECT_EQ(wait_millis(milliseconds(-40), 100), 0);
}

TEST(WaitMillis, NeverOverTheCap) {
  EXPECT_EQ(wait_millis(std::chrono::hours(1), 100), 100);
  EXPECT_EQ(wait_millis(microseconds(4500), 5), 5);
}

}  // namespace
}  // namespace sluice::engine
