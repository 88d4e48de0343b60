#include "backpressure_gate.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

BackpressureGate two_stages() {
  return BackpressureGate({{"summarize", 100, 10}, {"publish", 50, 5}});
}

TEST(BackpressureGate, StaysOpenWhileEveryNextStageIsAtOrUnderItsHighWatermark) {
  BackpressureGate gate = two_stages();
  gate.update({100, 50});
  EXPECT_FALSE(gate.shut());
  EXPECT_EQ(gate.cause(), "");
  EXPECT_EQ(gate.why(), "");
}

TEST(BackpressureGate, ShutsWhenANextStageRisesAboveItsHighWatermarkAndNamesIt) {
  BackpressureGate gate = two_stages();
  gate.update({20, 51});
  EXPECT_TRUE(gate.shut());
  EXPECT_EQ(gate.cause(), "publish");
  EXPECT_EQ(gate.why(), "stage publish holds 51 records (it fills above 50 and drains below 5)");
}

TEST(BackpressureGate, StaysShutBetweenTheWatermarksAndOpensBelowTheLowOne) {
  BackpressureGate gate = two_stages();
  gate.update({101, 0});
  gate.update({60, 0});  // between 10 and 100: still full
  EXPECT_TRUE(gate.shut());
  EXPECT_EQ(gate.why(), "stage summarize holds 60 records (it fills above 100 and drains below 10)");
  gate.update({10, 0});  // at the low watermark is not below it
  EXPECT_TRUE(gate.shut());
  gate.update({9, 0});
  EXPECT_FALSE(gate.shut());
}

TEST(BackpressureGate, ABelowHighStageDoesNotShutItAgainAfterItOpened) {
  BackpressureGate gate = two_stages();
  gate.update({101, 0});
  gate.update({9, 0});
  gate.update({60, 0});  // rising, but not above 100 yet
  EXPECT_FALSE(gate.shut());
}

TEST(BackpressureGate, NamesTheFirstFullStageInNextOrderUntilItDrains) {
  BackpressureGate gate = two_stages();
  gate.update({101, 51});
  EXPECT_EQ(gate.cause(), "summarize");
  gate.update({5, 40});  // summarize drained; publish is still between its marks
  EXPECT_EQ(gate.cause(), "publish");
  gate.update({5, 4});
  EXPECT_FALSE(gate.shut());
}

TEST(BackpressureGate, ForgetOpensTheGateUntilTheNextReadingAboveHigh) {
  BackpressureGate gate = two_stages();
  gate.update({101, 0});
  gate.forget();
  EXPECT_FALSE(gate.shut());
  gate.update({60, 0});
  EXPECT_FALSE(gate.shut());
  gate.update({101, 0});
  EXPECT_TRUE(gate.shut());
}

TEST(BackpressureGate, RoomIsWhatTheTightestStageHasLeftUnderItsHighWatermark) {
  BackpressureGate gate = two_stages();
  gate.update({70, 45});
  EXPECT_EQ(gate.room(), 5);
  EXPECT_EQ(gate.tightest(), "publish");
  gate.update({95, 10});
  EXPECT_EQ(gate.room(), 5);
  EXPECT_EQ(gate.tightest(), "summarize");
  gate.update({100, 10});  // at the mark: open, no room
  EXPECT_FALSE(gate.shut());
  EXPECT_EQ(gate.room(), 0);
}

TEST(BackpressureGate, NoRoomWhileShutAndNoBoundWithoutAReading) {
  BackpressureGate gate = two_stages();
  EXPECT_EQ(gate.room(), INT64_MAX);
  gate.update({60, 51});
  EXPECT_EQ(gate.room(), 0);
  gate.forget();
  EXPECT_EQ(gate.room(), INT64_MAX);
}

TEST(BackpressureGate, AStageWithNoNextStageNeverShuts) {
  BackpressureGate gate({});
  gate.update({});
  EXPECT_FALSE(gate.shut());
  EXPECT_EQ(gate.room(), INT64_MAX);
}

}  // namespace
}  // namespace sluice::engine
