#include "token_bucket.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, TenSendsAtFivePerSecondTakeAtLeastOnePointEightSeconds) {
  Clock::time_point now{};
  TokenBucket bucket(5, 1, now);
  Clock::time_point start = now;
  for (int i = 0; i < 10; ++i) now += bucket.take(now);  // the caller sleeps, then sends
  EXPECT_GE(now - start, 1800ms);
  EXPECT_LT(now - start, 1801ms);
}

TEST(TokenBucket, AnIdleBucketFillsOnlyUpToItsBurst) {
  Clock::time_point now{};
  TokenBucket bucket(10, 2, now);
  now += 10s;
  EXPECT_EQ(bucket.take(now), Clock::duration::zero());
  EXPECT_EQ(bucket.take(now), Clock::duration::zero());
  EXPECT_EQ(bucket.take(now), std::chrono::duration_cast<Clock::duration>(100ms));
}

TEST(TokenBucket, RatesArePositiveNumbersPerSecond) {
  EXPECT_EQ(parse_rate("5/s").value(), 5);
  EXPECT_EQ(parse_rate("0.5/s").value(), 0.5);
  for (const char* bad : {"", "5", "/s", "0/s", "-1/s", "1e3/s", "5/m", "five/s", "5/s/s"}) {
    auto parsed = parse_rate(bad);
    ASSERT_FALSE(parsed.is_ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kUsage);
  }
}

}  // namespace
}  // namespace sluice::ops
