#include "state_keys.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::engine {
namespace {

using Scope = StateKey::Scope;

TEST(StateKeys, RoundTripBothScopes) {
  for (const StateKey& key : {StateKey{Scope::kTaskKey, "user-7", "count"},
                              StateKey{Scope::kTaskKey, "", "empty task key"},
                              StateKey{Scope::kTaskKey, std::string(300, 'k'), "long key"},
                              StateKey{Scope::kTaskKey, std::string("a\0b", 3), "nul"},
                              StateKey{Scope::kPartition, "", "watermark"}}) {
    auto decoded = decode_state_key(encode_state_key(key));
    ASSERT_TRUE(decoded.has_value()) << key.name;
    EXPECT_EQ(decoded->scope, key.scope) << key.name;
    EXPECT_EQ(decoded->task_key, key.task_key) << key.name;
    EXPECT_EQ(decoded->name, key.name) << key.name;
  }
}

TEST(StateKeys, TaskKeysThatArePrefixesOfOneAnotherDoNotCollide) {
  std::string ab_c = encode_state_key({Scope::kTaskKey, "ab", "c"});
  std::string a_bc = encode_state_key({Scope::kTaskKey, "a", "bc"});
  EXPECT_NE(ab_c, a_bc);
  // A scan of task key "a" does not reach task key "ab"'s names.
  std::string prefix_of_a = state_key_prefix(Scope::kTaskKey, "a", "");
  EXPECT_EQ(a_bc.rfind(prefix_of_a, 0), 0u);
  EXPECT_NE(ab_c.rfind(prefix_of_a, 0), 0u);
}

TEST(StateKeys, ScopesDoNotCollide) {
  EXPECT_NE(encode_state_key({Scope::kTaskKey, "", "x"}),
            encode_state_key({Scope::kPartition, "", "x"}));
}

TEST(StateKeys, APrefixScanOfNamesStaysWithinItsTaskKey) {
  std::string prefix = state_key_prefix(Scope::kTaskKey, "job-1", "part-");
  EXPECT_EQ(encode_state_key({Scope::kTaskKey, "job-1", "part-3"}).rfind(prefix, 0), 0u);
  EXPECT_NE(encode_state_key({Scope::kTaskKey, "job-1", "total"}).rfind(prefix, 0), 0u);
  EXPECT_NE(encode_state_key({Scope::kTaskKey, "job-10", "part-3"}).rfind(prefix, 0), 0u);
}

TEST(StateKeys, ForeignBytesDoNotDecode) {
  EXPECT_FALSE(decode_state_key("").has_value());
  EXPECT_FALSE(decode_state_key("xyz").has_value());          // unknown scope
  EXPECT_FALSE(decode_state_key("k\x05" "ab").has_value());   // task key cut short
  EXPECT_FALSE(decode_state_key("k\x80").has_value());        // varint cut short
}

}  // namespace
}  // namespace sluice::engine
