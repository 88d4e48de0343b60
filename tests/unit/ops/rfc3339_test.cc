#include "rfc3339.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

TEST(Rfc3339, UtcTimeIsMillisecondsSinceTheEpoch) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(parse_rfc3339("2025-05-01T12:00:00Z").value(), 1746100800000);
}

TEST(Rfc3339, OffsetAndFractionAreApplied) {
  EXPECT_EQ(parse_rfc3339("2025-05-01T14:00:00.25+02:00").value(), 1746100800250);
  EXPECT_EQ(parse_rfc3339("2025-05-01t06:30:00.123456-05:30").value(), 1746100800123);
}

TEST(Rfc3339, MalformedTimesAreUsageErrorsNamingTheText) {
  for (const char* bad : {"", "2025-05-01", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
                          "2025-05-01T12:00:00", "2025-05-01T24:00:00Z", "2025-05-01T12:00:00.Z",
                          "2025-05-01T12:00:00+2:00", "2025-05-01T12:00:00Zjunk"}) {
    auto parsed = parse_rfc3339(bad);
    ASSERT_FALSE(parsed.is_ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kUsage);
    EXPECT_EQ(parsed.status().message(), std::string("'") + bad +
                                             "' is not an RFC 3339 time (e.g. 2025-05-01T12:00:00Z)");
  }
}

TEST(Rfc3339, FormatsUtcWithOrWithoutMilliseconds) {
  EXPECT_EQ(format_rfc3339(1746100800250), "2025-05-01T12:00:00Z");
  EXPECT_EQ(format_rfc3339(1746100800250, /*millis=*/true), "2025-05-01T12:00:00.250Z");
  EXPECT_EQ(parse_rfc3339(format_rfc3339(1746100800250, true)).value(), 1746100800250);
}

}  // namespace
}  // namespace sluice::ops
