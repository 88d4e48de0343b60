#include "exec_task_table.h"

#include <gtest/gtest.h>

namespace sluice::stages {
namespace {

using Clock = TaskTable::Clock;
using namespace std::chrono_literals;

Completion noop() {
  return [](Outcome) {};
}

TEST(TaskTable, PendingTasksStartInArrivalOrder) {
  TaskTable table;
  auto later = Clock::now() + 1h;
  table.add("a", "line-a", noop(), later);
  table.add("b", "line-b", noop(), later);
  EXPECT_EQ(table.start_next(1), "line-a");
  EXPECT_EQ(table.start_next(1), "line-b");
  EXPECT_FALSE(table.start_next(1).has_value());
  EXPECT_EQ(table.size(), 2u);
}

TEST(TaskTable, FinishMatchesOnlyTheGenerationTheTaskRunsIn) {
  TaskTable table;
  table.add("a", "line", noop(), Clock::now() + 1h);
  EXPECT_FALSE(table.finish("a", 1).has_value()) << "still pending";
  ASSERT_TRUE(table.start_next(1).has_value());
  EXPECT_FALSE(table.finish("a", 2).has_value());
  EXPECT_TRUE(table.finish("a", 1).has_value());
  EXPECT_EQ(table.size(), 0u);
}

TEST(TaskTable, TakingAGenerationLeavesPendingTasksQueued) {
  TaskTable table;
  auto later = Clock::now() + 1h;
  table.add("a", "line-a", noop(), later);
  table.add("b", "line-b", noop(), later);
  ASSERT_TRUE(table.start_next(1).has_value());
  EXPECT_EQ(table.take_in_flight(1).size(), 1u);
  EXPECT_TRUE(table.has_pending());
  EXPECT_EQ(table.start_next(2), "line-b");
}

TEST(TaskTable, ExpiredTasksAreFoundByDeadline) {
  TaskTable table;
  auto now = Clock::now();
  table.add("old", "l1", noop(), now - 1ms);
  table.add("new", "l2", noop(), now + 1h);
  ASSERT_TRUE(table.start_next(1).has_value());
  EXPECT_EQ(table.expired_in_flight(1, now), "old");
  EXPECT_EQ(table.earliest_deadline(), now - 1ms);
  EXPECT_EQ(table.take_expired_pending(now).size(), 0u) << "new is not expired";
}

TEST(CompletionBatch, RunsEveryCompletionOnce) {
  int calls = 0;
  CompletionBatch batch;
  batch.add_all({[&](Outcome) { ++calls; }, [&](Outcome) { ++calls; }}, Outcome::ok({}));
  batch.run();
  batch.run();
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace sluice::stages
