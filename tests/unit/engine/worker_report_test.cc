#include "worker_report.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

TEST(WorkerReport, RoundTripsAPausedReport) {
  std::string text = encode_worker_report({1700000000123, 1700000000001, 1500, "publish"});
  EXPECT_EQ(text, "worker 1700000000123 1700000000001 1500 publish");
  auto back = parse_worker_report(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->at_unix_ms, 1700000000123);
  EXPECT_EQ(back->progress_unix_ms, 1700000000001);
  EXPECT_EQ(back->millitasks_per_second, 1500);
  EXPECT_EQ(back->paused_by, "publish");
}

TEST(WorkerReport, ADashMeansNotHeldBack) {
  std::string text = encode_worker_report({5, 4, 0, ""});
  EXPECT_EQ(text, "worker 5 4 0 -");
  auto back = parse_worker_report(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->paused_by, "");
}

TEST(WorkerReport, MetadataItDidNotWriteIsNotAReport) {
  for (const char* text : {"", "worker", "worker 5", "worker 5 4", "worker 5 4 ", "worker x 4 -",
                           "worker 5 4 -", "worker 5 4 0 a b", "restoring 10 5",
                           "worker -5 4 0 -", "worker 5 4 -1 -",
                           "sluice-done v1 ..."}) {
    EXPECT_FALSE(parse_worker_report(text).has_value()) << text;
  }
}

TEST(WorkerReport, StuckIsAStaleReportOrOldProgress) {
  constexpr int64_t kNow = 1700000100000;
  constexpr int64_t kStuckAfter = 40000;
  for (bool stable : {true, false}) {
    EXPECT_FALSE(report_shows_stuck(WorkerReport{kNow - 1000, kNow - 39000, 0, ""}, kNow,
                                    kStuckAfter, stable));
    // Stopped reporting: stale after kWorkerReportStale, whatever its progress
    // said; a frozen member holds a rebalance up too.
    EXPECT_FALSE(report_shows_stuck(WorkerReport{kNow - 5000, kNow - 5000, 0, ""}, kNow,
                                    kStuckAfter, stable));
    EXPECT_TRUE(report_shows_stuck(WorkerReport{kNow - 5001, kNow - 5001, 0, ""}, kNow,
                                   kStuckAfter, stable));
    // Reporting, but no task ended for longer than the stage's timeout and more.
    EXPECT_TRUE(report_shows_stuck(WorkerReport{kNow - 500, kNow - 40001, 0, ""}, kNow,
                                   kStuckAfter, stable));
  }
}

TEST(WorkerReport, NoReportIsStuckOnlyInASettledGroup) {
  // Settled: nobody owns the partition, or its owner never reported.
  EXPECT_TRUE(report_shows_stuck(std::nullopt, 1700000100000, 40000, true));
  // Rebalancing: the partition is nobody's yet.
  EXPECT_FALSE(report_shows_stuck(std::nullopt, 1700000100000, 40000, false));
}

}  // namespace
}  // namespace sluice::engine
