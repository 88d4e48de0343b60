#include "changelog_cache.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace sluice::engine {
namespace {

using Writes = std::vector<ChangelogCache::Write>;

std::optional<std::string> value_of(const Writes& writes, const std::string& key) {
  auto it = std::find_if(writes.begin(), writes.end(),
                         [&](const ChangelogCache::Write& w) { return w.key == key; });
  EXPECT_NE(it, writes.end()) << key;
  return it == writes.end() ? std::nullopt : it->value;
}

TEST(ChangelogCache, AKeyWrittenManyTimesIsOneRecordWithItsLatestValue) {
  ChangelogCache cache;
  cache.put("a", "1");
  cache.put("b", "1");
  cache.put("a", "2");
  cache.put("a", "3");
  EXPECT_EQ(cache.unflushed_bytes(), 4u);  // "a" "3", "b" "1"
  Writes writes = cache.take(7);
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(value_of(writes, "a"), "3");
  EXPECT_EQ(value_of(writes, "b"), "1");
  EXPECT_EQ(cache.unflushed_bytes(), 0u);
  EXPECT_FALSE(cache.has_unflushed());
}

TEST(ChangelogCache, ADeleteAfterAWriteIsATombstone) {
  ChangelogCache cache;
  cache.put("a", "1");
  cache.put("a", std::nullopt);
  Writes writes = cache.take(1);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].value, std::nullopt);
}

TEST(ChangelogCache, OffsetsAreDoneOnlyWhenTheFlushTakenAfterThemIsAcknowledged) {
  ChangelogCache cache;
  cache.put("a", "1");
  cache.defer(10);
  cache.defer(12);
  EXPECT_TRUE(cache.has_unflushed());
  cache.take(1);
  EXPECT_FALSE(cache.idle());  // in flight
  cache.defer(11);             // after the take: waits for the next flush
  EXPECT_EQ(cache.flushed(1), (std::vector<int64_t>{10, 12}));
  EXPECT_FALSE(cache.idle());
  cache.take(2);  // no writes: its offsets are done once acknowledged
  EXPECT_EQ(cache.flushed(2), (std::vector<int64_t>{11}));
  EXPECT_TRUE(cache.idle());
}

TEST(ChangelogCache, FlushesEndInTheOrderTaken) {
  ChangelogCache cache;
  cache.put("a", "1");
  cache.defer(1);
  cache.take(1);
  cache.put("a", "2");
  cache.defer(2);
  cache.take(2);
  // The second is acknowledged first: nothing is done until the first is.
  EXPECT_TRUE(cache.flushed(2).empty());
  EXPECT_EQ(cache.flushed(1), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(cache.idle());
}

TEST(ChangelogCache, ClearForgetsEverythingAndLateAcknowledgementsReleaseNothing) {
  ChangelogCache cache;
  cache.put("a", "1");
  cache.defer(1);
  cache.take(1);
  cache.put("b", "1");
  cache.defer(2);
  cache.clear();
  EXPECT_TRUE(cache.idle());
  EXPECT_TRUE(cache.flushed(1).empty());
  EXPECT_TRUE(cache.take(2).empty());
}

}  // namespace
}  // namespace sluice::engine
