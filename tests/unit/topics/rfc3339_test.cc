#include <gtest/gtest.h>

#include "sluice/topics/rfc3339.h"

namespace sluice::topics {
namespace {

int64_t parsed(const std::string& text) {
  Result<int64_t> t = parse_rfc3339(text);
  EXPECT_TRUE(t.is_ok()) << text << ": " << t.status().to_string();
  return t.is_ok() ? *t : -1;
}

std::string refusal(const std::string& text) {
  Result<int64_t> t = parse_rfc3339(text);
  if (t.is_ok()) return "(accepted)";
  EXPECT_EQ(t.status().code(), StatusCode::kUsage);
  return t.status().message();
}

constexpr int64_t k2026Dec01T18 = 1796148000000;  // 2026-12-01T18:00:00Z

TEST(Rfc3339, ParsesUtc) {
  EXPECT_EQ(parsed("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parsed("2026-12-01T18:00:00Z"), k2026Dec01T18);
  EXPECT_EQ(parsed("2026-12-01t18:00:00z"), k2026Dec01T18);  // RFC 3339 allows lower case
}

TEST(Rfc3339, AppliesTheOffset) {
  EXPECT_EQ(parsed("2026-12-01T19:30:00+01:30"), k2026Dec01T18);
  EXPECT_EQ(parsed("2026-12-01T13:00:00-05:00"), k2026Dec01T18);
  EXPECT_EQ(parsed("2026-12-01T18:00:00+00:00"), k2026Dec01T18);
}

TEST(Rfc3339, KeepsMillisecondsAndDropsFinerDigits) {
  EXPECT_EQ(parsed("2026-12-01T18:00:00.25Z"), k2026Dec01T18 + 250);
  EXPECT_EQ(parsed("2026-12-01T18:00:00.123456789Z"), k2026Dec01T18 + 123);
}

TEST(Rfc3339, ParsesLeapDaysAndTimesBefore1970) {
  EXPECT_EQ(parsed("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(parsed("1969-12-31T23:59:59Z"), -1000);
}

TEST(Rfc3339, RefusesWhatIsNotTheFormat) {
  const std::string shape =
      "expected an RFC 3339 time such as 2026-12-01T18:00:00Z or 2026-12-01T19:00:00+01:00";
  for (const char* text : {"", "2026-12-01", "2026-12-01T18:00", "2026-12-01T18:00:00",
                           "2026-12-01 18:00:00Z", "2026-12-1T18:00:00Z", "2026-12-01T18:00:00.Z",
                           "2026-12-01T18:00:00Zjunk", "2026-12-01T18:00:00+0100",
                           "+2026-12-01T18:00:00Z"}) {
    EXPECT_EQ(refusal(text), "bad time '" + std::string(text) + "': " + shape) << text;
  }
}

TEST(Rfc3339, RefusesDatesAndTimesThatDoNotExist) {
  for (const char* text : {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
                           "2026-12-32T00:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T18:60:00Z",
                           "2026-12-01T18:00:60Z", "2026-12-01T18:00:00+24:00"}) {
    EXPECT_EQ(refusal(text), "bad time '" + std::string(text) + "': no such date or time") << text;
  }
}

TEST(Rfc3339, FormatsInUtcWithMillisecondsOnlyWhenThereAreAny) {
  EXPECT_EQ(format_rfc3339(k2026Dec01T18), "2026-12-01T18:00:00Z");
  EXPECT_EQ(format_rfc3339(k2026Dec01T18 + 7), "2026-12-01T18:00:00.007Z");
  EXPECT_EQ(format_rfc3339(-1000), "1969-12-31T23:59:59Z");
  EXPECT_EQ(parsed(format_rfc3339(1709164800123)), 1709164800123);
}

}  // namespace
}  // namespace sluice::topics
