// The public face of the changelog's key encoding (sluice/state_changelog.h).
#include "sluice/state_changelog.h"

#include <gtest/gtest.h>

#include "state_keys.h"

namespace sluice {
namespace {

TEST(StateChangelog, ChangelogKeyIsTheWorkersStateKey) {
  engine::StateKey key{engine::StateKey::Scope::kTaskKey, "alice", "n"};
  EXPECT_EQ(changelog_key("alice", "n"), engine::encode_state_key(key));
}

TEST(StateChangelog, DecodesBothScopes) {
  auto own = decode_changelog_key(changelog_key("alice", kKeyStateName));
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->scope, StageState::Scope::kKey);
  EXPECT_EQ(own->task_key, "alice");
  EXPECT_EQ(own->name, "");
  auto whole = decode_changelog_key(
      engine::encode_state_key({engine::StateKey::Scope::kPartition, "", "total"}));
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->scope, StageState::Scope::kPartition);
  EXPECT_EQ(whole->name, "total");
}

TEST(StateChangelog, ForeignBytesDoNotDecode) {
  EXPECT_FALSE(decode_changelog_key("").has_value());
  EXPECT_FALSE(decode_changelog_key("x").has_value());
  EXPECT_FALSE(decode_changelog_key("k\x09" "abc").has_value());
}

}  // namespace
}  // namespace sluice
