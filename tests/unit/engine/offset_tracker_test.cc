#include "offset_tracker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace sluice::engine {

bool operator==(const CommitPosition& a, const CommitPosition& b) {
  return a.partition == b.partition && a.next_offset == b.next_offset;
}

void PrintTo(const CommitPosition& p, std::ostream* os) {
  *os << "{partition " << p.partition << ", next_offset " << p.next_offset << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

// A tracker with `partition` assigned and `offsets` tracked.
OffsetTracker tracking(int32_t partition, const std::vector<int64_t>& offsets) {
  OffsetTracker tracker;
  tracker.assign(partition);
  for (int64_t offset : offsets) {
    EXPECT_TRUE(tracker.track(partition, offset)) << "offset " << offset;
  }
  return tracker;
}

TEST(OffsetTracker, NothingIsCommittableBeforeAnyOffsetCompletes) {
  OffsetTracker tracker = tracking(0, {10, 11});

  EXPECT_EQ(tracker.committable(0), std::nullopt);
  EXPECT_THAT(tracker.committable(), IsEmpty());
}

TEST(OffsetTracker, InOrderCompletionAdvancesTheWatermark) {
  OffsetTracker tracker = tracking(0, {10, 11, 12});

  tracker.complete(0, 10);
  EXPECT_THAT(tracker.committable(0), Optional(11));
  tracker.complete(0, 11);
  EXPECT_THAT(tracker.committable(0), Optional(12));
  tracker.complete(0, 12);
  EXPECT_THAT(tracker.committable(0), Optional(13));
}

TEST(OffsetTracker, WatermarkStopsAtFirstPendingOffset) {
  OffsetTracker tracker = tracking(0, {10, 11, 12, 13});
  tracker.complete(0, 10);

  tracker.complete(0, 12);
  tracker.complete(0, 13);

  EXPECT_THAT(tracker.committable(0), Optional(11));
}

TEST(OffsetTracker, WatermarkJumpsPastCompletedOffsetsWhenThePendingOneCompletes) {
  OffsetTracker tracker = tracking(0, {10, 11, 12, 13});
  tracker.complete(0, 10);
  tracker.complete(0, 12);
  tracker.complete(0, 13);

  tracker.complete(0, 11);

  EXPECT_THAT(tracker.committable(0), Optional(14));
}

TEST(OffsetTracker, GapsBetweenTrackedOffsetsDoNotHoldTheWatermark) {
  OffsetTracker tracker = tracking(0, {10, 11, 15});

  tracker.complete(0, 15);
  tracker.complete(0, 11);
  EXPECT_EQ(tracker.committable(0), std::nullopt);
  tracker.complete(0, 10);

  EXPECT_THAT(tracker.committable(0), Optional(16));
}

TEST(OffsetTracker, CompletedOffsetsBeforeAGapAreCommittedUpToTheGap) {
  OffsetTracker tracker = tracking(0, {10, 11, 15});

  tracker.complete(0, 10);
  tracker.complete(0, 11);

  // Committing 12 re-reads nothing that completed: 12..14 do not exist.
  std::optional<int64_t> next = tracker.committable(0);
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, 11);
  EXPECT_LE(*next, 15);
}

TEST(OffsetTracker, CommittableReportsEveryPartitionThatMoved) {
  OffsetTracker tracker;
  for (int32_t p : {0, 1, 2}) {
    tracker.assign(p);
    ASSERT_TRUE(tracker.track(p, 5));
  }

  tracker.complete(0, 5);
  tracker.complete(2, 5);

  EXPECT_THAT(tracker.committable(), ElementsAre(CommitPosition{0, 6}, CommitPosition{2, 6}));
}

TEST(OffsetTracker, CommittableOmitsPartitionsUnchangedSinceMarkCommitted) {
  OffsetTracker tracker;
  for (int32_t p : {0, 1}) {
    tracker.assign(p);
    ASSERT_TRUE(tracker.track(p, 5));
    ASSERT_TRUE(tracker.track(p, 6));
    tracker.complete(p, 5);
  }
  tracker.mark_committed(tracker.committable());
  EXPECT_THAT(tracker.committable(), IsEmpty());

  tracker.complete(1, 6);

  EXPECT_THAT(tracker.committable(), ElementsAre(CommitPosition{1, 7}));
}

TEST(OffsetTracker, ForgetCommitMakesAPartitionCommittableAgain) {
  OffsetTracker tracker = tracking(0, {5});
  tracker.complete(0, 5);
  tracker.mark_committed(tracker.committable());
  ASSERT_THAT(tracker.committable(), IsEmpty());

  tracker.forget_commit(0);

  EXPECT_THAT(tracker.committable(), ElementsAre(CommitPosition{0, 6}));
}

TEST(OffsetTracker, RevokeForgetsPendingOffsets) {
  OffsetTracker tracker = tracking(0, {5, 6, 7});
  ASSERT_EQ(tracker.pending(), 3u);

  tracker.revoke(0);

  EXPECT_FALSE(tracker.is_assigned(0));
  EXPECT_EQ(tracker.pending(), 0u);
  EXPECT_THAT(tracker.committable(), IsEmpty());
}

TEST(OffsetTracker, CompleteOnARevokedPartitionIsIgnored) {
  OffsetTracker tracker = tracking(0, {5});
  tracker.revoke(0);

  tracker.complete(0, 5);

  EXPECT_FALSE(tracker.is_assigned(0));
  EXPECT_EQ(tracker.committable(0), std::nullopt);
  EXPECT_THAT(tracker.committable(), IsEmpty());
}

TEST(OffsetTracker, ReassignAfterRevokeStartsFresh) {
  OffsetTracker tracker = tracking(0, {5, 6});
  tracker.complete(0, 5);
  tracker.mark_committed(tracker.committable());
  tracker.revoke(0);

  tracker.assign(0);

  EXPECT_TRUE(tracker.is_assigned(0));
  EXPECT_EQ(tracker.pending(), 0u);
  EXPECT_EQ(tracker.committable(0), std::nullopt);
  // Lower offsets than before are accepted: nothing of the old life remains.
  ASSERT_TRUE(tracker.track(0, 3));
  tracker.complete(0, 3);
  EXPECT_THAT(tracker.committable(), ElementsAre(CommitPosition{0, 4}));
}

TEST(OffsetTracker, TrackRefusesARepeatedOffset) {
  OffsetTracker tracker = tracking(0, {5});

  EXPECT_FALSE(tracker.track(0, 5));
  EXPECT_EQ(tracker.pending(), 1u);
}

TEST(OffsetTracker, TrackRefusesAnOffsetBelowTheLastTracked) {
  OffsetTracker tracker = tracking(0, {5, 8});

  EXPECT_FALSE(tracker.track(0, 7));
  EXPECT_EQ(tracker.pending(), 2u);
  // The refused offset is not tracked: completing it changes nothing.
  tracker.complete(0, 5);
  tracker.complete(0, 7);
  EXPECT_THAT(tracker.committable(0), Optional(6));
}

TEST(OffsetTracker, TrackRefusesAnOffsetAlreadyCompletedAndCommittable) {
  OffsetTracker tracker = tracking(0, {5, 6});
  tracker.complete(0, 5);
  tracker.complete(0, 6);

  EXPECT_FALSE(tracker.track(0, 6));
  EXPECT_FALSE(tracker.track(0, 2));
  EXPECT_EQ(tracker.pending(), 0u);
  EXPECT_THAT(tracker.committable(0), Optional(7));
}

TEST(OffsetTracker, PendingCountsIncompleteOffsetsOverAllPartitions) {
  OffsetTracker tracker;
  tracker.assign(0);
  tracker.assign(1);
  ASSERT_TRUE(tracker.track(0, 1));
  ASSERT_TRUE(tracker.track(0, 2));
  ASSERT_TRUE(tracker.track(1, 1));
  EXPECT_EQ(tracker.pending(), 3u);

  tracker.complete(0, 2);  // out of order: still counted as done
  EXPECT_EQ(tracker.pending(), 2u);
  tracker.complete(0, 2);  // a second completion is ignored
  EXPECT_EQ(tracker.pending(), 2u);
  tracker.complete(1, 99);  // never tracked
  EXPECT_EQ(tracker.pending(), 2u);
}

// Model: per partition, the set of tracked offsets not yet complete, and the
// next offset to track. Offsets are contiguous from 0, so the committable
// next_offset is the lowest incomplete offset (or the next one to be tracked
// when all are done), and there is none while offset 0 is incomplete.
struct ModelPartition {
  std::set<int64_t> incomplete;
  int64_t next = 0;

  std::optional<int64_t> expected_watermark() const {
    int64_t lowest = incomplete.empty() ? next : *incomplete.begin();
    if (lowest == 0) return std::nullopt;
    return lowest;
  }
  int64_t take_random_incomplete(std::mt19937& rng) {
    auto it = incomplete.begin();
    std::advance(it, rng() % incomplete.size());
    int64_t offset = *it;
    incomplete.erase(it);
    return offset;
  }
};

TEST(OffsetTracker, WatermarkIsLowestIncompleteOffsetUnderRandomCompletionOrder) {
  constexpr int kPartitions = 3;
  constexpr int kOffsets = 10000;
  std::mt19937 rng(20240611);
  OffsetTracker tracker;
  std::vector<ModelPartition> model(kPartitions);
  for (int32_t p = 0; p < kPartitions; ++p) tracker.assign(p);

  int tracked = 0;
  int completed = 0;
  while (completed < kOffsets) {
    auto p = static_cast<int32_t>(rng() % kPartitions);
    ModelPartition& m = model[p];
    if (tracked == kOffsets && m.incomplete.empty()) continue;
    // Track ahead more often than complete, so windows grow wide.
    if (tracked < kOffsets && (m.incomplete.empty() || rng() % 3 != 0)) {
      ASSERT_TRUE(tracker.track(p, m.next));
      m.incomplete.insert(m.next++);
      ++tracked;
    } else {
      tracker.complete(p, m.take_random_incomplete(rng));
      ++completed;
    }
    ASSERT_EQ(tracker.committable(p), m.expected_watermark())
        << "partition " << p << " after " << tracked << " tracked, " << completed << " completed";
    ASSERT_EQ(tracker.pending(), static_cast<size_t>(tracked - completed));
  }
  for (int32_t p = 0; p < kPartitions; ++p) {
    EXPECT_THAT(tracker.committable(p), Optional(model[p].next));
  }
}

}  // namespace
}  // namespace sluice::engine
