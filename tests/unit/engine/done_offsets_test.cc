#include "done_offsets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(DoneOffsets, EncodesRangesAsDeltasFromThePosition) {
  EXPECT_EQ(encode_done_offsets(100, {{101, 103}, {107, 107}, {110, 111}}),
            "sluice1:1-3,7,10-11");
}

TEST(DoneOffsets, NothingDoneEncodesAsNoMetadata) {
  EXPECT_EQ(encode_done_offsets(100, {}), "");
}

TEST(DoneOffsets, RoundTripsThroughTheMetadataString) {
  std::vector<OffsetRange> done = {{5, 6}, {9, 9}, {20, 22}};
  EXPECT_EQ(decode_done_offsets(3, encode_done_offsets(3, done)), done);
}

// A new owner keeps what it reads as ranges: a range of a million offsets is
// one entry, not a million (decoding ran inside the rebalance callback).
TEST(DoneOffsets, DecodesAHugeRangeAsOneRange) {
  EXPECT_THAT(decode_done_offsets(0, "sluice1:5-100000005"),
              ElementsAre(OffsetRange{5, 100000005}));
}

TEST(DoneOffsets, StopsAtTheByteLimitKeepingWholeRanges) {
  std::vector<OffsetRange> done;
  for (int64_t o = 1; o < 2000; o += 2) done.push_back({o, o});
  std::string text = encode_done_offsets(0, done, 64);
  EXPECT_LE(text.size(), 64u);
  std::vector<OffsetRange> decoded = decode_done_offsets(0, text);
  ASSERT_FALSE(decoded.empty());
  EXPECT_THAT(std::vector<OffsetRange>(done.begin(), done.begin() + decoded.size()),
              ::testing::ContainerEq(decoded));
}

TEST(DoneOffsets, IgnoresMetadataItDidNotWrite) {
  EXPECT_THAT(decode_done_offsets(0, "some other tool's note"), IsEmpty());
  EXPECT_THAT(decode_done_offsets(0, "sluice1:3,2"), IsEmpty());     // not ascending
  EXPECT_THAT(decode_done_offsets(0, "sluice1:1-3,3"), IsEmpty());   // overlapping
  EXPECT_THAT(decode_done_offsets(0, "sluice1:5-2"), IsEmpty());     // backwards range
  EXPECT_THAT(decode_done_offsets(0, "sluice1:1,x"), IsEmpty());     // garbage
  EXPECT_THAT(decode_done_offsets(0, "sluice1:-1"), IsEmpty());      // negative
}

}  // namespace
}  // namespace sluice::engine

namespace sluice::engine {
namespace {

// The circuit's part rides beside the done offsets; each reader sees its own.
TEST(DoneOffsets, TheCircuitsUntilRidesBesideTheDoneOffsets) {
  std::string metadata = encode_done_offsets(100, {{102, 104}}, kMaxDoneOffsetsBytes, 1234567);
  EXPECT_EQ(metadata, "sluice1:2-4;circuit_until=1234567");
  EXPECT_EQ(decode_done_offsets(100, metadata), (std::vector<OffsetRange>{{102, 104}}));
  EXPECT_EQ(decode_circuit_until(metadata), 1234567);
  EXPECT_EQ(decode_circuit_until(encode_done_offsets(100, {{102, 104}})), 0);
  std::string only_circuit = encode_done_offsets(100, {}, kMaxDoneOffsetsBytes, 99);
  EXPECT_EQ(only_circuit, "sluice1:;circuit_until=99");
  EXPECT_TRUE(decode_done_offsets(100, only_circuit).empty());
  EXPECT_EQ(decode_circuit_until("foreign;circuit_until=5"), 0);
}

}  // namespace
}  // namespace sluice::engine
