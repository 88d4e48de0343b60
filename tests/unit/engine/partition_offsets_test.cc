#include "partition_offsets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

namespace sluice::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Intake = PartitionOffsets::Intake;

PartitionOffsets taking(int64_t start, std::initializer_list<int64_t> offsets) {
  PartitionOffsets tracker(start);
  for (int64_t o : offsets) EXPECT_EQ(tracker.take(o), Intake::kTrack) << o;
  return tracker;
}

TEST(PartitionOffsets, PositionIsTheStartUntilAnOffsetCompletesInOrder) {
  PartitionOffsets tracker = taking(10, {10, 11});
  EXPECT_EQ(tracker.position(), 10);
  tracker.complete(11);
  EXPECT_EQ(tracker.position(), 10);
  EXPECT_THAT(tracker.done_above(), ElementsAre(OffsetRange{11, 11}));
  tracker.complete(10);
  EXPECT_EQ(tracker.position(), 12);
  EXPECT_THAT(tracker.done_above(), IsEmpty());
}

// Defect: the old tracker committed the first offset it saw, assuming what
// lay before it was committed. A fetch that starts above the known start
// (no seek happened after a rewind) must not move the position past the
// offsets it never saw done.
TEST(PartitionOffsets, AFetchAboveTheStartNeverCommitsWhatItSkipped) {
  PartitionOffsets tracker(100);
  ASSERT_EQ(tracker.take(150), Intake::kTrack);
  EXPECT_EQ(tracker.position(), 100);
  EXPECT_THAT(tracker.done_above(), IsEmpty());
}

// Defect: a repeated offset restarted tracking there. Now it is stale and
// the tracked work keeps its place.
TEST(PartitionOffsets, RepeatedAndOlderOffsetsAreStaleNotARestart) {
  PartitionOffsets tracker = taking(10, {10, 11, 12});
  tracker.complete(10);
  EXPECT_EQ(tracker.take(11), Intake::kStale);
  EXPECT_EQ(tracker.take(5), Intake::kStale);
  EXPECT_EQ(tracker.position(), 11);
  EXPECT_EQ(tracker.pending(), 2u);
  EXPECT_EQ(tracker.take(13), Intake::kTrack);
}

TEST(PartitionOffsets, WithNoCommitTheFirstFetchedOffsetIsTheStart) {
  PartitionOffsets tracker = PartitionOffsets::from_first_fetch();
  EXPECT_FALSE(tracker.started());
  ASSERT_EQ(tracker.take(40), Intake::kTrack);
  ASSERT_TRUE(tracker.started());
  EXPECT_EQ(tracker.position(), 40);
  EXPECT_EQ(tracker.take(39), Intake::kStale);
}

TEST(PartitionOffsets, GapsBetweenTrackedOffsetsDoNotHoldThePosition) {
  PartitionOffsets tracker = taking(10, {10, 11, 15});
  tracker.complete(10);
  tracker.complete(11);
  EXPECT_EQ(tracker.position(), 12);
  tracker.complete(15);
  EXPECT_EQ(tracker.position(), 16);
}

TEST(PartitionOffsets, SkipsAreTakenAsDoneAndAdvanceThePosition) {
  PartitionOffsets tracker(10, {{11, 12}, {14, 14}});
  EXPECT_EQ(tracker.take(10), Intake::kTrack);
  EXPECT_EQ(tracker.take(11), Intake::kSkip);
  EXPECT_EQ(tracker.take(12), Intake::kSkip);
  EXPECT_EQ(tracker.take(13), Intake::kTrack);
  EXPECT_EQ(tracker.take(14), Intake::kSkip);
  EXPECT_EQ(tracker.position(), 10);
  tracker.complete(10);
  EXPECT_EQ(tracker.position(), 13);
  tracker.complete(13);
  EXPECT_EQ(tracker.position(), 15);
}

// A handover before the skips are reached passes them on: the next owner
// skips them too instead of rerunning them.
TEST(PartitionOffsets, DoneAboveIncludesSkipsNotYetReached) {
  PartitionOffsets tracker(10, {{20, 29}});
  ASSERT_EQ(tracker.take(10), Intake::kTrack);
  ASSERT_EQ(tracker.take(11), Intake::kTrack);
  tracker.complete(11);
  EXPECT_THAT(tracker.done_above(), ElementsAre(OffsetRange{11, 11}, OffsetRange{20, 29}));
  // Fetched right after 11, so no record lies between them: one range.
  ASSERT_EQ(tracker.take(20), Intake::kSkip);
  EXPECT_THAT(tracker.done_above(), ElementsAre(OffsetRange{11, 29}));
}

TEST(PartitionOffsets, DoneAboveJoinsConsecutiveDoneOffsetsIntoRanges) {
  PartitionOffsets tracker = taking(0, {0, 1, 2, 3, 5, 6, 7});
  for (int64_t o : {1, 2, 3, 6, 7}) tracker.complete(o);
  EXPECT_THAT(tracker.done_above(), ElementsAre(OffsetRange{1, 3}, OffsetRange{6, 7}));
}

// A rewind restarts at the position and skips only what was acknowledged.
TEST(PartitionOffsets, RewoundStartsAtThePositionAndSkipsWhatWasDone) {
  PartitionOffsets tracker = taking(0, {0, 1, 2, 3, 4});
  tracker.complete(0);
  tracker.complete(2);
  tracker.complete(4);
  PartitionOffsets rewound = tracker.rewound();
  EXPECT_EQ(rewound.position(), 1);
  EXPECT_EQ(rewound.take(0), Intake::kStale);
  EXPECT_EQ(rewound.take(1), Intake::kTrack);
  EXPECT_EQ(rewound.take(2), Intake::kSkip);
  EXPECT_EQ(rewound.take(3), Intake::kTrack);
  EXPECT_EQ(rewound.take(4), Intake::kSkip);
  rewound.complete(1);
  rewound.complete(3);
  EXPECT_EQ(rewound.position(), 5);
}

TEST(PartitionOffsets, MovedUntilMarkedCommittedAndAgainAfterAFailedCommit) {
  PartitionOffsets tracker = taking(0, {0, 1});
  EXPECT_TRUE(tracker.moved());  // nobody said its start was committed
  tracker.mark_committed(0);
  EXPECT_FALSE(tracker.moved());
  tracker.complete(0);
  EXPECT_TRUE(tracker.moved());
  tracker.mark_committed(tracker.position());
  EXPECT_FALSE(tracker.moved());
  tracker.forget_commit();
  EXPECT_TRUE(tracker.moved());
}

TEST(PartitionOffsets, WindowCountsEverythingAboveThePosition) {
  PartitionOffsets tracker = taking(0, {0, 1, 2, 3});
  tracker.complete(1);
  tracker.complete(2);
  EXPECT_EQ(tracker.window(), 4u);  // 0 holds 1..3 in the window
  tracker.complete(0);
  EXPECT_EQ(tracker.window(), 1u);
}

// exactly_once pauses a partition on done_ranges_bound(): it must never be
// below the ranges the commit's metadata will have to carry.
TEST(PartitionOffsets, DoneRangesBoundCoversDoneAboveThroughRandomCompletions) {
  std::mt19937 random(7);
  PartitionOffsets tracker(100, {{140, 145}, {170, 171}, {300, 310}});
  std::vector<int64_t> open;
  for (int64_t offset = 100; offset < 400; ++offset) {
    if (tracker.take(offset) == PartitionOffsets::Intake::kTrack) open.push_back(offset);
    // Complete a random earlier offset now and then: out of order.
    while (!open.empty() && random() % 3 == 0) {
      size_t pick = random() % open.size();
      tracker.complete(open[pick]);
      open.erase(open.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    ASSERT_GE(tracker.done_ranges_bound(), tracker.done_above().size()) << "at " << offset;
  }
  for (int64_t offset : open) tracker.complete(offset);
  EXPECT_EQ(tracker.done_above().size(), 0u);
  EXPECT_EQ(tracker.done_ranges_bound(), 0u);
  EXPECT_EQ(tracker.position(), 400);
}

// Found by the exactly_once chaos test (one duplicate in 20,000 after five kills):
// periodic commits went out only for partitions whose position moved, so offsets
// done above a position held by one slow task were never committed while their
// outputs were; a crash then ran them again.
TEST(PartitionOffsets, ChangedWhenAnOffsetAboveAStuckPositionIsDone) {
  PartitionOffsets tracker = taking(10, {10, 11, 12});
  tracker.mark_committed(tracker.position());
  EXPECT_FALSE(tracker.changed());
  tracker.complete(12);  // 10 still runs: the position stays at 10
  EXPECT_FALSE(tracker.moved());
  EXPECT_TRUE(tracker.changed());
  EXPECT_THAT(tracker.done_above(), ElementsAre(OffsetRange{12, 12}));
  tracker.mark_committed(tracker.position());
  EXPECT_FALSE(tracker.changed());
  tracker.complete(10);
  EXPECT_TRUE(tracker.changed());
}

// A transaction's marker (and, read_committed, an aborted transaction's
// records) take offsets the worker never sees: the position passes them only
// once nothing is tracked, never over a task still open.
TEST(PartitionOffsets, PassesOffsetsNeverHandedOverOnlyWhenNothingIsTracked) {
  PartitionOffsets tracker = taking(10, {10, 11});
  tracker.pass_to(500);
  EXPECT_EQ(tracker.position(), 10) << "passed over a running task";
  tracker.complete(10);
  tracker.complete(11);
  EXPECT_EQ(tracker.position(), 12);
  tracker.mark_committed(tracker.position());
  tracker.pass_to(12);
  EXPECT_FALSE(tracker.changed()) << "not past next_fetch(): nothing to pass";
  tracker.pass_to(500);
  EXPECT_EQ(tracker.position(), 500);
  EXPECT_EQ(tracker.next_fetch(), 500);
  EXPECT_TRUE(tracker.moved());
  EXPECT_EQ(tracker.take(499), PartitionOffsets::Intake::kStale);
  EXPECT_EQ(tracker.take(500), PartitionOffsets::Intake::kTrack);
}

TEST(PartitionOffsets, PassingMovesSkipsOnWithIt) {
  PartitionOffsets tracker(10, {{20, 30}});
  tracker.pass_to(25);
  EXPECT_EQ(tracker.position(), 25);
  EXPECT_EQ(tracker.take(26), PartitionOffsets::Intake::kSkip) << "the rest of the skip holds";
  EXPECT_THAT(tracker.done_above(), ElementsAre(OffsetRange{27, 30}));
}

}  // namespace
}  // namespace sluice::engine
