#include "autoscaler.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

using std::chrono::seconds;

topics::PipelineSpec two_stages() {
  topics::PipelineSpec spec;
  spec.pipeline = "p";
  topics::StageSpec fast, slow;
  fast.name = "fast";
  fast.next = {"slow"};
  fast.partitions = 4;
  slow.name = "slow";
  slow.partitions = 4;
  slow.scale.max = 3;
  slow.backpressure.high_watermark = 1000;
  spec.stages = {fast, slow};
  return spec;
}

StageStatus stage(const std::string& name, int64_t waiting, double throughput, int workers) {
  StageStatus s;
  s.stage = name;
  s.workers = workers;
  s.throughput = throughput;
  s.topics = {{name, "input", waiting}, {name + ".retry", "retry", 0}};
  return s;
}

PipelineStatus status_of(StageStatus fast, StageStatus slow) {
  PipelineStatus status;
  status.stages = {std::move(fast), std::move(slow)};
  return status;
}

AutoscaleSettings quick() { return {seconds(60), seconds(30), seconds(60)}; }

TEST(Autoscaler, AddsAWorkerToTheStageThatDrainsSlowestPastTheTarget) {
  topics::PipelineSpec spec = two_stages();
  Autoscaler scaler(spec, quick());
  auto t0 = Autoscaler::Clock::now();
  // fast drains 100 records in 1 s; slow 900 at 10/s: 90 s, over the 60 s target.
  auto decision = scaler.decide(status_of(stage("fast", 100, 100, 1), stage("slow", 900, 10, 1)),
                                {{"fast", 1}, {"slow", 1}}, t0);
  ASSERT_TRUE(decision.has_value());
  EXPECT_EQ(decision->stage, "slow");
  EXPECT_EQ(decision->from, 1);
  EXPECT_EQ(decision->to, 2);
  EXPECT_EQ(decision->reason, "its 900 waiting records drain in 90 s at 10/s, over the target 60 s");
  EXPECT_EQ(scaler.ups(), 1);
}

TEST(Autoscaler, CoolsDownAfterAChangeAndStopsAtScaleMax) {
  topics::PipelineSpec spec = two_stages();
  Autoscaler scaler(spec, quick());
  auto t0 = Autoscaler::Clock::now();
  auto busy = status_of(stage("fast", 0, 0, 1), stage("slow", 9000, 10, 1));
  ASSERT_TRUE(scaler.decide(busy, {{"fast", 1}, {"slow", 1}}, t0));
  EXPECT_FALSE(scaler.decide(busy, {{"fast", 1}, {"slow", 2}}, t0 + seconds(10)));
  auto next = scaler.decide(busy, {{"fast", 1}, {"slow", 2}}, t0 + seconds(31));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->to, 3);
  EXPECT_FALSE(scaler.decide(busy, {{"fast", 1}, {"slow", 3}}, t0 + seconds(90)));  // scale.max
}

TEST(Autoscaler, NeverAddsToAStageWhoseNextStageIsFullOrWhichIsHeldBack) {
  topics::PipelineSpec spec = two_stages();
  Autoscaler scaler(spec, quick());
  auto now = Autoscaler::Clock::now();
  // fast would drain slowest, but slow is over its high watermark (1000).
  EXPECT_FALSE(scaler.decide(status_of(stage("fast", 9000, 10, 1), stage("slow", 1500, 1000, 3)),
                             {{"fast", 1}, {"slow", 3}}, now));
  StageStatus held = stage("fast", 9000, 10, 1);
  held.paused_by = "slow";
  EXPECT_FALSE(scaler.decide(status_of(held, stage("slow", 10, 100, 3)),
                             {{"fast", 1}, {"slow", 3}}, now));
}

TEST(Autoscaler, WaitsForAThroughputBeforeDecidingButStartsAStageWithNoWorkers) {
  topics::PipelineSpec spec = two_stages();
  Autoscaler scaler(spec, quick());
  auto now = Autoscaler::Clock::now();
  EXPECT_FALSE(scaler.decide(status_of(stage("fast", 0, 0, 1), stage("slow", 500, 0, 1)),
                             {{"fast", 1}, {"slow", 1}}, now));
  auto start = scaler.decide(status_of(stage("fast", 0, 0, 1), stage("slow", 500, 0, 0)),
                             {{"fast", 1}, {"slow", 0}}, now);
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(start->to, 1);
}

TEST(Autoscaler, RemovesAWorkerFromAStageIdleLongEnoughDownToScaleMin) {
  topics::PipelineSpec spec = two_stages();
  Autoscaler scaler(spec, quick());
  auto t0 = Autoscaler::Clock::now();
  auto idle = status_of(stage("fast", 0, 0, 1), stage("slow", 0, 0, 3));
  std::map<std::string, int> workers = {{"fast", 1}, {"slow", 3}};
  EXPECT_FALSE(scaler.decide(idle, workers, t0));
  EXPECT_FALSE(scaler.decide(idle, workers, t0 + seconds(59)));
  auto down = scaler.decide(idle, workers, t0 + seconds(60));
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->stage, "slow");
  EXPECT_EQ(down->to, 2);
  EXPECT_EQ(down->reason, "nothing waited for 60 s");
  EXPECT_EQ(scaler.downs(), 1);
  // fast is at its scale.min (1): never below it.
  workers = {{"fast", 1}, {"slow", 1}};
  EXPECT_FALSE(scaler.decide(idle, workers, t0 + seconds(600)));
}

TEST(Autoscaler, RecordsArrivingResetTheIdleClock) {
  topics::PipelineSpec spec = two_stages();
  Autoscaler scaler(spec, quick());
  auto t0 = Autoscaler::Clock::now();
  std::map<std::string, int> workers = {{"fast", 1}, {"slow", 2}};
  auto idle = status_of(stage("fast", 0, 0, 1), stage("slow", 0, 0, 2));
  EXPECT_FALSE(scaler.decide(idle, workers, t0));
  EXPECT_FALSE(scaler.decide(status_of(stage("fast", 0, 0, 1), stage("slow", 5, 100, 2)),
                             workers, t0 + seconds(40)));
  EXPECT_FALSE(scaler.decide(idle, workers, t0 + seconds(70)));  // idle since 70 s only
  EXPECT_TRUE(scaler.decide(idle, workers, t0 + seconds(130)));
}

}  // namespace
}  // namespace sluice::ops
