#include "drain_estimate.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

StageStatus stage(const std::string& name, int64_t input, int64_t retry, double throughput,
                  int workers) {
  StageStatus s;
  s.stage = name;
  s.workers = workers;
  s.throughput = throughput;
  s.topics = {{"t", "input", input}, {"t.retry", "retry", retry}, {"t.dlq", "dlq", 999}};
  return s;
}

TEST(DrainEstimate, DrainTimeIsWhatWaitsOverThroughputDlqNotCounted) {
  DrainEstimate e = estimate_drain(stage("s", 900, 100, 50, 1), 6, 300);
  EXPECT_EQ(e.waiting, 1000);
  ASSERT_TRUE(e.seconds.has_value());
  EXPECT_DOUBLE_EQ(*e.seconds, 20);
  EXPECT_EQ(e.workers_to_drain, 1);
}

TEST(DrainEstimate, WorkersToDrainWithinTheTargetAreCappedAtThePartitions) {
  // 2 workers at 10/s each: 6,000 records in 60 s need 10, the stage has 6 partitions.
  DrainEstimate e = estimate_drain(stage("s", 6000, 0, 20, 2), 6, 60);
  EXPECT_EQ(e.workers_to_drain, 6);
  DrainEstimate few = estimate_drain(stage("s", 1200, 0, 20, 2), 6, 60);
  EXPECT_EQ(few.workers_to_drain, 2);
}

TEST(DrainEstimate, NothingDrainsWhatWaitsWithoutThroughput) {
  DrainEstimate e = estimate_drain(stage("s", 10, 0, 0, 1), 6, 60);
  EXPECT_FALSE(e.seconds.has_value());
  EXPECT_FALSE(e.workers_to_drain.has_value());
  DrainEstimate empty = estimate_drain(stage("s", 0, 0, 0, 3), 6, 60);
  EXPECT_EQ(empty.seconds, 0);
  EXPECT_EQ(empty.workers_to_drain, 3);
}

TEST(DrainEstimate, TheBottleneckIsTheSlowestToDrainAndNoneWhenAllIsIdle) {
  PipelineStatus status;
  status.stages = {stage("a", 100, 0, 100, 1), stage("b", 500, 0, 50, 1),
                   stage("c", 0, 0, 0, 1)};
  EXPECT_EQ(bottleneck(status), "b");
  status.stages.push_back(stage("d", 5, 0, 0, 0));  // waits, nothing drains it
  EXPECT_EQ(bottleneck(status), "d");
  status.stages[3].paused_by = "b";  // held back: its cause is the bottleneck
  EXPECT_EQ(bottleneck(status), "b");
  PipelineStatus idle;
  idle.stages = {stage("a", 0, 0, 10, 1)};
  EXPECT_EQ(bottleneck(idle), "");
}

}  // namespace
}  // namespace sluice::ops
