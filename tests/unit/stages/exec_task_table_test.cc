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
  table.add("a", "line-a", noop());
  table.add("b", "line-b", noop());
  EXPECT_EQ(table.start_next(1, later), "line-a");
  EXPECT_EQ(table.start_next(1, later), "line-b");
  EXPECT_FALSE(table.start_next(1, later).has_value());
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.in_flight(1), 2u);
}

TEST(TaskTable, FinishMatchesOnlyTheGenerationTheTaskRunsIn) {
  TaskTable table;
  table.add("a", "line", noop());
  EXPECT_FALSE(table.finish("a", 1).has_value()) << "still pending";
  ASSERT_TRUE(table.start_next(1, Clock::now() + 1h).has_value());
  EXPECT_FALSE(table.finish("a", 2).has_value());
  EXPECT_TRUE(table.finish("a", 1).has_value());
  EXPECT_EQ(table.size(), 0u);
}

TEST(TaskTable, OnlyTasksInFlightHaveDeadlines) {
  TaskTable table;
  auto now = Clock::now();
  table.add("old", "l1", noop());
  table.add("new", "l2", noop());
  EXPECT_FALSE(table.earliest_deadline().has_value()) << "waiting for a child costs no time";
  ASSERT_TRUE(table.start_next(1, now - 1ms).has_value());
  EXPECT_EQ(table.expired_in_flight(1, now), "old");
  EXPECT_EQ(table.earliest_deadline(), now - 1ms);
}

TEST(TaskTable, RequeuedSuspectsRunFirstInTheOrderTheyStarted) {
  TaskTable table;
  auto later = Clock::now() + 1h;
  for (std::string id : {"a", "b", "c", "d"}) table.add(id, "line-" + id, noop());
  table.start_next(1, later);
  table.start_next(1, later);
  table.start_next(1, later);
  EXPECT_EQ(table.requeue_in_flight(1, true, "found alone"), 3u);
  EXPECT_TRUE(table.has_suspects());
  EXPECT_EQ(table.suspect_note("b"), "found alone");
  EXPECT_FALSE(table.suspect_note("d").has_value());
  EXPECT_FALSE(table.earliest_deadline().has_value());
  EXPECT_EQ(table.start_next(2, later, true), "line-a") << "the line is kept for a second write";
  EXPECT_EQ(table.start_next(2, later, true), "line-b");
  EXPECT_EQ(table.start_next(2, later, true), "line-c");
  EXPECT_FALSE(table.start_next(2, later, true).has_value()) << "d is no suspect";
  for (std::string id : {"a", "b", "c"}) EXPECT_TRUE(table.finish(id, 2).has_value());
  EXPECT_FALSE(table.has_suspects());
  EXPECT_EQ(table.start_next(2, later, table.has_suspects()), "line-d");
}

TEST(TaskTable, TakeRemovesATaskWhereverItIs) {
  TaskTable table;
  table.add("a", "l", noop());
  table.add("b", "l", noop());
  table.start_next(1, Clock::now() + 1h);
  EXPECT_TRUE(table.take("b").has_value());
  EXPECT_TRUE(table.take("a").has_value());
  EXPECT_FALSE(table.take("a").has_value());
  EXPECT_FALSE(table.has_pending());
  EXPECT_EQ(table.size(), 0u);
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
