#include "done_offsets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "offset_tracker.h"

namespace sluice::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(DoneOffsets, EncodesRangesAsDeltasFromThePosition) {
  EXPECT_EQ(encode_done_offsets(100, {101, 102, 103, 107, 110, 111}), "sluice1:1-3,7,10-11");
}

TEST(DoneOffsets, NothingDoneEncodesAsNoMetadata) {
  EXPECT_EQ(encode_done_offsets(100, {}), "");
}

TEST(DoneOffsets, RoundTripsThroughTheMetadataString) {
  std::vector<int64_t> done = {5, 6, 9, 20, 21, 22};
  EXPECT_EQ(decode_done_offsets(3, encode_done_offsets(3, done)), done);
}

TEST(DoneOffsets, StopsAtTheByteLimitKeepingWholeRanges) {
  std::vector<int64_t> done;
  for (int64_t o = 1; o < 2000; o += 2) done.push_back(o);
  std::string text = encode_done_offsets(0, done, 64);
  EXPECT_LE(text.size(), 64u);
  std::vector<int64_t> decoded = decode_done_offsets(0, text);
  ASSERT_FALSE(decoded.empty());
  EXPECT_THAT(std::vector<int64_t>(done.begin(), done.begin() + decoded.size()),
              ::testing::ContainerEq(decoded));
}

TEST(DoneOffsets, IgnoresMetadataItDidNotWrite) {
  EXPECT_THAT(decode_done_offsets(0, "some other tool's note"), IsEmpty());
  EXPECT_THAT(decode_done_offsets(0, "sluice1:3,2"), IsEmpty());     // not ascending
  EXPECT_THAT(decode_done_offsets(0, "sluice1:5-2"), IsEmpty());     // backwards range
  EXPECT_THAT(decode_done_offsets(0, "sluice1:1,x"), IsEmpty());     // garbage
  EXPECT_THAT(decode_done_offsets(0, "sluice1:-1"), IsEmpty());      // negative
}

TEST(OffsetTracker, HandoverPositionCarriesOffsetsDoneAboveIt) {
  OffsetTracker tracker;
  tracker.assign(0);
  for (int64_t o = 10; o < 15; ++o) ASSERT_TRUE(tracker.track(0, o));
  tracker.complete(0, 10);
  tracker.complete(0, 12);
  tracker.complete(0, 14);
  auto positions = tracker.handover_positions();
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].next_offset, 11);
  EXPECT_THAT(positions[0].done_above, ElementsAre(12, 14));
}

TEST(OffsetTracker, HandoverPositionBeforeAnyCompletionIsTheFirstOffsetRead) {
  OffsetTracker tracker;
  tracker.assign(0);
  ASSERT_TRUE(tracker.track(0, 40));
  ASSERT_TRUE(tracker.track(0, 41));
  tracker.complete(0, 41);
  auto positions = tracker.handover_positions();
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].next_offset, 40);
  EXPECT_THAT(positions[0].done_above, ElementsAre(41));
}

TEST(OffsetTracker, TakeSkipMatchesHandedOverOffsetsOnce) {
  OffsetTracker tracker;
  tracker.assign(0);
  tracker.skip_done(0, {12, 14});
  EXPECT_FALSE(tracker.take_skip(0, 11));
  EXPECT_TRUE(tracker.take_skip(0, 12));
  EXPECT_FALSE(tracker.take_skip(0, 12));
  EXPECT_FALSE(tracker.take_skip(0, 13));
  EXPECT_TRUE(tracker.take_skip(0, 14));
}

}  // namespace
}  // namespace sluice::engine
