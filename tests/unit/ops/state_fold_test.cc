// `sluice state`: the latest value per changelog key, tombstones, filters.
#include "state_fold.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::ops {
namespace {

SnapshotRecord put(int32_t partition, int64_t offset, std::string key, std::string value) {
  SnapshotRecord r;
  r.partition = partition;
  r.offset = offset;
  r.key = std::move(key);
  r.value = std::move(value);
  return r;
}

SnapshotRecord tombstone(int32_t partition, int64_t offset, std::string key) {
  SnapshotRecord r = put(partition, offset, std::move(key), "");
  r.tombstone = true;
  return r;
}

std::string own(std::string_view task_key) { return changelog_key(task_key, kKeyStateName); }

std::vector<StateEntry> entries(const StateFold& fold) {
  std::vector<StateEntry> out;
  fold.for_each([&](const StateEntry& e) {
    out.push_back(e);
    return true;
  });
  return out;
}

TEST(StateFold, TheLastValueOfAKeyWins) {
  StateFold fold;
  fold.add(put(0, 0, own("a"), "1"));
  fold.add(put(0, 1, own("a"), "2"));
  auto live = entries(fold);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].value, "2");
  EXPECT_EQ(live[0].offset, 1);
  EXPECT_EQ(live[0].key.task_key, "a");
  EXPECT_EQ(live[0].key.name, "");
}

TEST(StateFold, ATombstoneRemovesTheKeyAndALaterValueBringsItBack) {
  StateFold fold;
  fold.add(put(0, 0, own("a"), "1"));
  fold.add(tombstone(0, 1, own("a")));
  EXPECT_TRUE(entries(fold).empty());
  fold.add(put(0, 2, own("a"), "7"));
  ASSERT_EQ(entries(fold).size(), 1u);
  EXPECT_EQ(entries(fold)[0].value, "7");
}

TEST(StateFold, AnEmptyValueIsAValueNotATombstone) {
  StateFold fold;
  fold.add(put(0, 0, own("a"), ""));
  ASSERT_EQ(entries(fold).size(), 1u);
  EXPECT_EQ(entries(fold)[0].value, "");
}

TEST(StateFold, ATombstoneOfAnUnknownKeyIsHarmless) {
  StateFold fold;
  fold.add(tombstone(0, 0, own("a")));
  EXPECT_TRUE(entries(fold).empty());
  EXPECT_EQ(fold.undecodable(), 0);
}

TEST(StateFold, SameKeyInTwoPartitionsIsTwoEntries) {
  StateFold fold;
  fold.add(put(1, 0, own("a"), "1"));
  fold.add(put(0, 0, own("a"), "2"));
  fold.add(tombstone(1, 1, own("a")));
  auto live = entries(fold);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].partition, 0);
}

TEST(StateFold, SortedByPartitionThenPartitionScopeThenKeyBytesThenName) {
  StateFold fold;
  fold.add(put(1, 0, own("a"), "p1"));
  fold.add(put(0, 0, changelog_key("b", ""), "b"));
  fold.add(put(0, 1, own("aa"), "aa"));  // longer, but "aa" < "b" by bytes
  fold.add(put(0, 2, changelog_key("aa", "x"), "aax"));
  fold.add(put(0, 3, "pwhole", "partition"));  // 'p' name: partition scope
  fold.add(put(0, 4, own("\xff"), "ff"));
  std::vector<std::string> order;
  for (const StateEntry& e : entries(fold)) order.push_back(e.value);
  EXPECT_EQ(order, (std::vector<std::string>{"partition", "aa", "aax", "b", "ff", "p1"}));
  EXPECT_EQ(entries(fold)[0].key.scope, StageState::Scope::kPartition);
  EXPECT_EQ(entries(fold)[0].key.name, "whole");
}

TEST(StateFold, ForeignKeysAreCountedNotKept) {
  StateFold fold;
  fold.add(put(0, 0, "", "x"));
  fold.add(put(0, 1, "zzz", "x"));
  fold.add(put(0, 2, "k\x05" "ab", "x"));  // length 5, only 2 bytes follow
  fold.add(put(0, 3, own("a"), "1"));
  EXPECT_EQ(entries(fold).size(), 1u);
  EXPECT_EQ(fold.undecodable(), 3);
}

TEST(StateFold, APartitionFilterKeepsOnlyThatPartition) {
  StateFold fold({2, std::nullopt});
  fold.add(put(1, 0, own("a"), "1"));
  fold.add(put(2, 0, own("b"), "2"));
  fold.add(put(1, 1, "zzz", "foreign elsewhere"));
  auto live = entries(fold);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].key.task_key, "b");
  EXPECT_EQ(fold.undecodable(), 0);
}

TEST(StateFold, AKeyFilterKeepsOnlyThatKeysName) {
  StateFold fold({std::nullopt, changelog_key("a", "n")});
  fold.add(put(0, 0, own("a"), "own"));
  fold.add(put(0, 1, changelog_key("a", "n"), "named"));
  fold.add(put(0, 2, changelog_key("a", "nn"), "other"));
  auto live = entries(fold);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].value, "named");
}

TEST(StateFold, ForEachStopsWhenAsked) {
  StateFold fold;
  fold.add(put(0, 0, own("a"), "1"));
  fold.add(put(0, 1, own("b"), "2"));
  int seen = 0;
  fold.for_each([&](const StateEntry&) { return ++seen < 1; });
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace sluice::ops
