#include "retry_delay.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

using std::chrono::milliseconds;

topics::RetryPolicy policy() {
  topics::RetryPolicy p;
  p.backoff = milliseconds(1000);
  p.max_backoff = milliseconds(5000);
  return p;
}

TEST(RetryDelay, DoublesPerAttemptUpToTheCap) {
  EXPECT_EQ(retry_delay(policy(), 1, milliseconds(0), 1.0), milliseconds(1000));
  EXPECT_EQ(retry_delay(policy(), 2, milliseconds(0), 1.0), milliseconds(2000));
  EXPECT_EQ(retry_delay(policy(), 3, milliseconds(0), 1.0), milliseconds(4000));
  EXPECT_EQ(retry_delay(policy(), 4, milliseconds(0), 1.0), milliseconds(5000));
  EXPECT_EQ(retry_delay(policy(), 1000, milliseconds(0), 1.0), milliseconds(5000));
}

TEST(RetryDelay, FullJitterScalesTheWholeWait) {
  EXPECT_EQ(retry_delay(policy(), 2, milliseconds(0), 0.0), milliseconds(0));
  EXPECT_EQ(retry_delay(policy(), 2, milliseconds(0), 0.25), milliseconds(500));
}

TEST(RetryDelay, ALargerRetryAfterWins) {
  EXPECT_EQ(retry_delay(policy(), 1, milliseconds(3000), 0.5), milliseconds(3000));
  EXPECT_EQ(retry_delay(policy(), 3, milliseconds(100), 1.0), milliseconds(4000));
}

TEST(RetryDelay, RandomSamplesStayWithinTheBackoff) {
  for (int i = 0; i < 1000; ++i) {
    auto d = retry_delay(policy(), 2, milliseconds(0));
    EXPECT_GE(d, milliseconds(0));
    EXPECT_LE(d, milliseconds(2000));
  }
}

}  // namespace
}  // namespace sluice::engine
