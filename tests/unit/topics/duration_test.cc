#include <gtest/gtest.h>

#include "sluice/topics/spec.h"

namespace sluice::topics {
namespace {

Millis parsed(const std::string& text) {
  Result<Millis> d = parse_duration(text);
  EXPECT_TRUE(d.is_ok()) << text << ": " << d.status().to_string();
  return d.is_ok() ? *d : Millis{-1};
}

std::string refusal(const std::string& text) {
  Result<Millis> d = parse_duration(text);
  if (d.is_ok()) return "(accepted)";
  EXPECT_EQ(d.status().code(), StatusCode::kUsage);
  return d.status().message();
}

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(parsed("250ms"), Millis{250});
  EXPECT_EQ(parsed("30s"), Millis{30000});
  EXPECT_EQ(parsed("5m"), Millis{300000});
  EXPECT_EQ(parsed("1h"), Millis{3600000});
}

TEST(Duration, AcceptsZero) { EXPECT_EQ(parsed("0s"), Millis{0}); }

TEST(Duration, AcceptsTheOneYearLimitExactly) {
  EXPECT_EQ(parsed("8760h"), Millis{int64_t{8760} * 3600000});
}

TEST(Duration, RefusesEmptyText) {
  EXPECT_EQ(refusal(""), "bad duration '': expected a whole number and a unit, e.g. 30s");
}

TEST(Duration, RefusesNumberWithoutUnit) {
  EXPECT_EQ(refusal("10"), "bad duration '10': unit must be ms, s, m or h");
}

TEST(Duration, RefusesNegativeNumber) {
  EXPECT_EQ(refusal("-1s"), "bad duration '-1s': expected a whole number and a unit, e.g. 30s");
}

TEST(Duration, RefusesFraction) {
  EXPECT_EQ(refusal("1.5s"), "bad duration '1.5s': unit must be ms, s, m or h");
}

TEST(Duration, RefusesUnknownUnit) {
  EXPECT_EQ(refusal("10x"), "bad duration '10x': unit must be ms, s, m or h");
}

TEST(Duration, RefusesUnitWithoutNumber) {
  EXPECT_EQ(refusal("ms"), "bad duration 'ms': expected a whole number and a unit, e.g. 30s");
}

TEST(Duration, RefusesSpaceBeforeUnit) {
  EXPECT_EQ(refusal("10 s"), "bad duration '10 s': unit must be ms, s, m or h");
}

TEST(Duration, RefusesJustOverTheOneYearLimit) {
  EXPECT_EQ(refusal("8761h"), "bad duration '8761h': longer than the limit of 8760h (365 days)");
}

TEST(Duration, RefusesNumberThatOverflowsInt64) {
  EXPECT_EQ(refusal("99999999999999999999ms"),
            "bad duration '99999999999999999999ms': longer than the limit of 8760h (365 days)");
}

TEST(Duration, FormatsInTheLargestEvenUnit) {
  EXPECT_EQ(format_duration(Millis{7200000}), "2h");
  EXPECT_EQ(format_duration(Millis{90000}), "90s");
  EXPECT_EQ(format_duration(Millis{1500}), "1500ms");
  EXPECT_EQ(format_duration(Millis{0}), "0ms");
}

TEST(Duration, FormatRoundTripsThroughParse) {
  for (int64_t ms : {1, 999, 1000, 61000, 3600000, 86400000}) {
    EXPECT_EQ(parsed(format_duration(Millis{ms})), Millis{ms});
  }
}

}  // namespace
}  // namespace sluice::topics
