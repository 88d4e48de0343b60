// partition_depth: the arithmetic behind every queue depth Sluice reports.
#include "queue_depth.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

TEST(PartitionDepth, CountsFromTheCommittedNextOffset) {
  EXPECT_EQ(partition_depth({10, 100}, 40), 60);
}

TEST(PartitionDepth, CountsFromTheLowWatermarkWhenNothingIsCommitted) {
  EXPECT_EQ(partition_depth({10, 100}, RD_KAFKA_OFFSET_INVALID), 90);
}

TEST(PartitionDepth, CountsFromTheLowWatermarkWhenRetentionPassedTheCommit) {
  EXPECT_EQ(partition_depth({50, 100}, 20), 50);
}

TEST(PartitionDepth, IsZeroWhenTheGroupIsCaughtUp) {
  EXPECT_EQ(partition_depth({10, 100}, 100), 0);
}

TEST(PartitionDepth, IsNeverNegative) {
  // A commit can briefly be ahead of a stale high watermark.
  EXPECT_EQ(partition_depth({10, 100}, 120), 0);
}

}  // namespace
}  // namespace sluice::engine
