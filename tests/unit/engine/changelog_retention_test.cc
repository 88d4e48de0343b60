#include "changelog_retention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

using testing::HasSubstr;
using Config = std::map<std::string, std::string>;

TEST(ChangelogRetention, CompactionAloneIsWhatARestoreNeeds) {
  RetentionVerdict verdict =
      check_changelog_retention("p.s.changelog", {{"cleanup.policy", "compact"}});
  EXPECT_TRUE(verdict.refusal.is_ok());
  EXPECT_EQ(verdict.warning, "");
}

TEST(ChangelogRetention, ADeletePolicyIsRefusedSayingHowToFixIt) {
  RetentionVerdict verdict = check_changelog_retention(
      "p.s.changelog", {{"cleanup.policy", "delete"}, {"retention.ms", "604800000"}});
  EXPECT_EQ(verdict.refusal.code(), StatusCode::kUsage);
  EXPECT_THAT(verdict.refusal.message(),
              HasSubstr("topic p.s.changelog has cleanup.policy=delete: the broker deletes old "
                        "state changes"));
  EXPECT_THAT(verdict.refusal.message(),
              HasSubstr("--entity-name p.s.changelog --add-config cleanup.policy=compact"));
}

TEST(ChangelogRetention, CompactAndDeleteWarnsUnlessRetentionIsInfinite) {
  RetentionVerdict limited = check_changelog_retention(
      "p.s.changelog", {{"cleanup.policy", "compact, delete"}, {"retention.ms", "86400000"}});
  EXPECT_TRUE(limited.refusal.is_ok());
  EXPECT_THAT(limited.warning, HasSubstr("retention.ms=86400000: the state of a key not written "
                                         "for that long is deleted"));
  RetentionVerdict forever = check_changelog_retention(
      "p.s.changelog", {{"cleanup.policy", "delete,compact"}, {"retention.ms", "-1"}});
  EXPECT_TRUE(forever.refusal.is_ok());
  EXPECT_EQ(forever.warning, "");
}

TEST(ChangelogRetention, AnUnknownPolicyIsAWarning) {
  RetentionVerdict verdict = check_changelog_retention("p.s.changelog", Config{});
  EXPECT_TRUE(verdict.refusal.is_ok());
  EXPECT_THAT(verdict.warning, HasSubstr("reports no cleanup.policy"));
}

}  // namespace
}  // namespace sluice::engine
