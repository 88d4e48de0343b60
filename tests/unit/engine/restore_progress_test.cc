#include "restore_progress.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

TEST(RestoreProgress, MarksReadBackAsWritten) {
  auto restoring = parse_restore_metadata(restoring_metadata(5000, 1700000000123));
  ASSERT_TRUE(restoring.has_value());
  EXPECT_TRUE(restoring->restoring);
  EXPECT_EQ(restoring->end, 5000);
  EXPECT_EQ(restoring->at_unix_ms, 1700000000123);
  auto restored = parse_restore_metadata(restored_metadata(1700000000456));
  ASSERT_TRUE(restored.has_value());
  EXPECT_FALSE(restored->restoring);
  EXPECT_EQ(restored->at_unix_ms, 1700000000456);
}

TEST(RestoreProgress, OtherMetadataIsNoMark) {
  for (const char* text : {"", "restoring", "restoring 5", "restoring x 1", "restored 1 2",
                           "restored -1", "v1 done 3-4"}) {
    EXPECT_FALSE(parse_restore_metadata(text).has_value()) << text;
  }
}

TEST(RestoreProgress, RecordsLeftCountOnlyFreshRestoringMarks) {
  RestoreMark mark{true, 1000, 50000};
  EXPECT_EQ(records_left(mark, 400, 50000), 600);
  EXPECT_EQ(records_left(mark, -1001, 50000), 1000) << "never committed: from the start";
  EXPECT_EQ(records_left(mark, 1200, 50000), 0);
  EXPECT_EQ(records_left(mark, 400, 50000 + kRestoreMarkStale.count() + 1), 0)
      << "a worker that died mid-restore";
  EXPECT_EQ(records_left(RestoreMark{false, 0, 50000}, 0, 50000), 0);
}

}  // namespace
}  // namespace sluice::engine
