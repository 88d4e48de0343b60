#include "circuit_breaker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = CircuitBreaker::Clock;

// failures: 20, failure_rate: 50, window: 30s, cool_down: 30s.
topics::CircuitPolicy policy() {
  topics::CircuitPolicy p;
  p.enabled = true;
  return p;
}

// An arbitrary steady_clock reading to start from, far from its epoch.
const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(1000);

void fail(CircuitBreaker& breaker, int n, Clock::time_point at) {
  for (int i = 0; i < n; ++i) (void)breaker.record_failure(at);
}
void succeed(CircuitBreaker& breaker, int n, Clock::time_point at) {
  for (int i = 0; i < n; ++i) breaker.record_success(at);
}

// Opens the breaker at kStart: its cool-down ends at kStart + 30s.
CircuitBreaker opened() {
  CircuitBreaker breaker(policy());
  fail(breaker, 20, kStart);
  return breaker;
}

// The opened breaker past its cool-down, changes taken.
CircuitBreaker half_open() {
  CircuitBreaker breaker = opened();
  (void)breaker.take_changes(kStart + seconds(30));
  return breaker;
}

TEST(CircuitBreaker, OpensAtTheFailureBoundAndNotOneBelow) {
  CircuitBreaker breaker(policy());
  fail(breaker, 19, kStart);
  EXPECT_EQ(breaker.state(kStart), CircuitState::kClosed);
  EXPECT_TRUE(breaker.may_start(kStart));
  fail(breaker, 1, kStart + seconds(1));
  EXPECT_EQ(breaker.state(kStart + seconds(1)), CircuitState::kOpen);
  EXPECT_FALSE(breaker.may_start(kStart + seconds(1)));
  EXPECT_EQ(breaker.open_until(), kStart + seconds(31));
}

TEST(CircuitBreaker, OpensAtExactlyTheFailureRate) {
  CircuitBreaker breaker(policy());
  succeed(breaker, 20, kStart);
  fail(breaker, 19, kStart);
  EXPECT_EQ(breaker.state(kStart), CircuitState::kClosed);  // 19 of 39
  fail(breaker, 1, kStart);
  EXPECT_EQ(breaker.state(kStart), CircuitState::kOpen);  // 20 of 40 = 50%
}

TEST(CircuitBreaker, StaysClosedBelowTheFailureRate) {
  CircuitBreaker breaker(policy());
  succeed(breaker, 61, kStart);
  fail(breaker, 60, kStart);  // 60 failures, but 49.6% of the attempts
  EXPECT_EQ(breaker.state(kStart), CircuitState::kClosed);
}

// 19 failures at kStart, the 20th `later`: the state then.
CircuitState after_a_late_twentieth_failure(Clock::duration later) {
  CircuitBreaker breaker(policy());
  fail(breaker, 19, kStart);
  fail(breaker, 1, kStart + later);
  return breaker.state(kStart + later);
}

TEST(CircuitBreaker, FailuresOlderThanTheWindowExpire) {
  EXPECT_EQ(after_a_late_twentieth_failure(seconds(31)), CircuitState::kClosed);
}

TEST(CircuitBreaker, FailuresInsideTheWindowStillCount) {
  // Buckets of 3s: the window keeps between the last 27s and 30s.
  EXPECT_EQ(after_a_late_twentieth_failure(seconds(26)), CircuitState::kOpen);
}

TEST(CircuitBreaker, SuccessesOlderThanTheWindowNoLongerDiluteTheRate) {
  CircuitBreaker breaker(policy());
  succeed(breaker, 100, kStart);
  fail(breaker, 20, kStart + seconds(40));
  EXPECT_EQ(breaker.state(kStart + seconds(40)), CircuitState::kOpen);
}

TEST(CircuitBreaker, TheRingOfBucketsForgetsAsItWrapsAround) {
  // Ten minutes of successes reuse each bucket many times; none of them is
  // left in the window half a minute after they stopped.
  CircuitBreaker breaker(policy());
  for (int s = 0; s < 570; ++s) succeed(breaker, 10, kStart + seconds(s));
  fail(breaker, 20, kStart + seconds(600));
  EXPECT_EQ(breaker.state(kStart + seconds(600)), CircuitState::kOpen);
}

TEST(CircuitBreaker, OpenForbidsStartsUntilTheCoolDownPassed) {
  CircuitBreaker breaker = opened();
  EXPECT_FALSE(breaker.may_start(kStart + milliseconds(29999)));
  EXPECT_EQ(breaker.state(kStart + milliseconds(29999)), CircuitState::kOpen);
  EXPECT_TRUE(breaker.may_start(kStart + seconds(30)));
  EXPECT_EQ(breaker.state(kStart + seconds(30)), CircuitState::kHalfOpen);
}

TEST(CircuitBreaker, HalfOpenAdmitsExactlyThreeProbes) {
  CircuitBreaker breaker = half_open();
  Clock::time_point now = kStart + seconds(31);
  for (int i = 0; i < CircuitBreaker::kProbes; ++i) {
    ASSERT_TRUE(breaker.may_start(now)) << "probe " << i;
    breaker.started(now);
  }
  EXPECT_FALSE(breaker.may_start(now));
  EXPECT_FALSE(breaker.record_failure(now));  // one probe failed, two running
  EXPECT_FALSE(breaker.may_start(now));       // the round has had its three
  EXPECT_EQ(breaker.state(now), CircuitState::kHalfOpen);
}

TEST(CircuitBreaker, AProbeSuccessClosesAndClearsTheWindow) {
  topics::CircuitPolicy short_cool_down = policy();
  short_cool_down.cool_down = seconds(5);  // the failures that opened it are still in the window
  CircuitBreaker breaker(short_cool_down);
  fail(breaker, 20, kStart);
  Clock::time_point now = kStart + seconds(6);
  breaker.started(now);
  breaker.record_success(now);
  EXPECT_EQ(breaker.state(now), CircuitState::kClosed);
  fail(breaker, 19, now);  // the 20 that opened it were forgotten
  EXPECT_EQ(breaker.state(now), CircuitState::kClosed);
}

TEST(CircuitBreaker, ReopensForAFreshCoolDownWhenEveryProbeFailed) {
  CircuitBreaker breaker = half_open();
  Clock::time_point now = kStart + seconds(31);
  for (int i = 0; i < CircuitBreaker::kProbes; ++i) breaker.started(now);
  fail(breaker, 2, now);
  EXPECT_EQ(breaker.state(now), CircuitState::kHalfOpen);
  fail(breaker, 1, now);
  EXPECT_EQ(breaker.state(now), CircuitState::kOpen);
  EXPECT_EQ(breaker.open_until(), now + seconds(30));
  EXPECT_FALSE(breaker.may_start(now + seconds(29)));
}

TEST(CircuitBreaker, AFailureBeforeAnyProbeStartedDoesNotReopen) {
  CircuitBreaker breaker = half_open();
  // A task started before the circuit opened ends now.
  EXPECT_FALSE(breaker.record_failure(kStart + seconds(31)));
  EXPECT_EQ(breaker.state(kStart + seconds(31)), CircuitState::kHalfOpen);
}

TEST(CircuitBreaker, ChargesOnlyFailuresEndingWhileClosed) {
  CircuitBreaker breaker(policy());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(breaker.record_failure(kStart));  // the 20th opens it
  EXPECT_TRUE(breaker.is_open_or_probing(kStart));
  EXPECT_FALSE(breaker.record_failure(kStart + seconds(1)));  // open
  EXPECT_TRUE(breaker.is_open_or_probing(kStart + seconds(30)));
  breaker.started(kStart + seconds(30));
  EXPECT_FALSE(breaker.record_failure(kStart + seconds(30)));  // a probe
}

TEST(CircuitBreaker, ReportsEachChangeOnceWithItsReason) {
  CircuitBreaker breaker(policy());
  succeed(breaker, 5, kStart);
  fail(breaker, 20, kStart);
  std::vector<CircuitChange> changes = breaker.take_changes(kStart);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, CircuitState::kOpen);
  EXPECT_EQ(breaker.describe(changes[0]),
            "circuit opened: 20 of 25 attempts failed in 30s; no task starts for 30s");
  EXPECT_TRUE(breaker.take_changes(kStart + seconds(1)).empty());

  changes = breaker.take_changes(kStart + seconds(30));  // time alone moves it
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, CircuitState::kOpen);
  EXPECT_EQ(changes[0].to, CircuitState::kHalfOpen);

  breaker.started(kStart + seconds(30));
  (void)breaker.record_failure(kStart + seconds(31));
  changes = breaker.take_changes(kStart + seconds(31));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(breaker.describe(changes[0]),
            "circuit re-opened: 1 of 1 probe tasks failed; no task starts for 30s");

  breaker.started(kStart + seconds(61));  // half-open again, not yet taken
  breaker.record_success(kStart + seconds(62));
  changes = breaker.take_changes(kStart + seconds(62));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].to, CircuitState::kHalfOpen);
  EXPECT_EQ(changes[1].from, CircuitState::kHalfOpen);
  EXPECT_EQ(changes[1].to, CircuitState::kClosed);
  EXPECT_EQ(breaker.describe(changes[1]), "circuit closed: a probe task succeeded");
}

TEST(CircuitBreaker, ADisabledPolicyNeverOpens) {
  topics::CircuitPolicy off = policy();
  off.enabled = false;
  CircuitBreaker breaker(off);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(breaker.record_failure(kStart));
  EXPECT_EQ(breaker.state(kStart), CircuitState::kClosed);
  EXPECT_TRUE(breaker.may_start(kStart));
  EXPECT_TRUE(breaker.take_changes(kStart).empty());
}

}  // namespace
}  // namespace sluice::engine

namespace sluice::engine {
namespace {

// A probe that ends with no verdict (refused for capacity, or its partition
// revoked) gives its slot back; without that, a round whose other probes
// failed would never end, and the stage would stay half-open for good.
TEST(CircuitBreaker, AnAbandonedProbeGivesItsSlotBack) {
  CircuitBreaker breaker = half_open();
  Clock::time_point at = kStart + seconds(30);
  for (int i = 0; i < CircuitBreaker::kProbes; ++i) breaker.started(at);
  EXPECT_FALSE(breaker.may_start(at));
  breaker.abandoned(at);
  EXPECT_TRUE(breaker.may_start(at));
  breaker.started(at);
  fail(breaker, CircuitBreaker::kProbes, at);
  EXPECT_EQ(breaker.state(at), CircuitState::kOpen) << "the round never ended";
}

}  // namespace
}  // namespace sluice::engine
