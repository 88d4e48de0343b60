#include "deadline_arg.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

constexpr int64_t kNow = 1796148000000;  // 2026-12-01T18:00:00Z

std::string refusal(const std::string& text) {
  Result<int64_t> d = parse_deadline(text, kNow);
  if (d.is_ok()) return "(accepted)";
  EXPECT_EQ(d.status().code(), StatusCode::kUsage);
  return d.status().message();
}

TEST(DeadlineArg, ADurationCountsFromNow) {
  EXPECT_EQ(*parse_deadline("30s", kNow), kNow + 30000);
  EXPECT_EQ(*parse_deadline("5m", kNow), kNow + 300000);
}

TEST(DeadlineArg, AnRfc3339TimeIsTakenAsItIs) {
  EXPECT_EQ(*parse_deadline("2026-12-01T19:00:00Z", kNow), kNow + 3600000);
  EXPECT_EQ(*parse_deadline("2026-12-01T20:00:00+01:00", kNow), kNow + 3600000);
}

TEST(DeadlineArg, RefusesATimeNotInTheFuture) {
  EXPECT_EQ(refusal("2026-12-01T17:59:59Z"),
            "--deadline 2026-12-01T17:59:59Z: not in the future (now is 2026-12-01T18:00:00Z)");
  EXPECT_EQ(refusal("2026-12-01T18:00:00Z"),
            "--deadline 2026-12-01T18:00:00Z: not in the future (now is 2026-12-01T18:00:00Z)");
  EXPECT_EQ(refusal("0s"), "--deadline 0s: not in the future (now is 2026-12-01T18:00:00Z)");
}

TEST(DeadlineArg, RefusesWhatIsNeitherADurationNorATime) {
  EXPECT_EQ(refusal("tomorrow"),
            "--deadline 'tomorrow': expected a duration from now (30s, 5m, 2h) or an RFC 3339 "
            "time (2026-12-01T18:00:00Z)");
  EXPECT_EQ(refusal("-5m"),
            "--deadline '-5m': expected a duration from now (30s, 5m, 2h) or an RFC 3339 "
            "time (2026-12-01T18:00:00Z)");
}

TEST(DeadlineArg, SaysWhatIsWrongWithSomethingThatLooksLikeATime) {
  EXPECT_EQ(refusal("2026-12-01T18:00:00"),
            "--deadline: bad time '2026-12-01T18:00:00': expected an RFC 3339 time such as "
            "2026-12-01T18:00:00Z or 2026-12-01T19:00:00+01:00");
  EXPECT_EQ(refusal("2026-02-30T00:00:00Z"),
            "--deadline: bad time '2026-02-30T00:00:00Z': no such date or time");
}

}  // namespace
}  // namespace sluice::ops
