#include "error_kind_label.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

TEST(ErrorKindLabel, KnownKindsAndHttpStatusesKeepTheirNames) {
  for (const char* kind : {"error", "timeout", "crash", "exception", "undecodable", "deadline",
                           "too_large", "http_503", "http_429"}) {
    EXPECT_EQ(sanitize_error_kind(kind), kind);
  }
}

TEST(ErrorKindLabel, OtherKindsAreLowercasedUnderscoredAndCut) {
  EXPECT_EQ(sanitize_error_kind("Rate Limited!"), "rate_limited_");
  EXPECT_EQ(sanitize_error_kind("http_5030"), "http_5030");
  EXPECT_EQ(sanitize_error_kind("kind\"} 1\nfake_metric"), "kind___1_fake_metric");
  EXPECT_EQ(sanitize_error_kind(std::string(100, 'x')), std::string(32, 'x'));
  EXPECT_EQ(sanitize_error_kind("\xc3\xa9t\xc3\xa9"), "__t__");
  EXPECT_EQ(sanitize_error_kind(""), "other");
}

TEST(ErrorKindLabel, AStageHasAtMost64LabelsTheRestCountAsOther) {
  ErrorKindLabels labels;
  std::set<std::string> seen;
  for (int status = 100; status < 1000; ++status) {
    seen.insert(labels.label("http_" + std::to_string(status)));
  }
  EXPECT_EQ(labels.label("http_100"), "http_100");  // admitted early, kept
  EXPECT_EQ(labels.label("http_999"), "other");
  for (const char* kind : {"error", "timeout", "crash", "exception", "undecodable", "deadline",
                           "cancelled", "max_visits", "approval_timeout", "protocol",
                           "too_large", "invalid_record", "bad_output", "invalid_input"}) {
    EXPECT_EQ(labels.label(kind), kind) << "a known kind keeps its place";
    seen.insert(kind);
  }
  EXPECT_EQ(seen.size(), ErrorKindLabels::kMaxKinds);
}

}  // namespace
}  // namespace sluice::ops
