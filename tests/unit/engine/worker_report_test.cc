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

}  // namespace
}  // namespace sluice::engine
