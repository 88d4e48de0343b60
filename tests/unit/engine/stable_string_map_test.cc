#include "stable_string_map.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::engine {
namespace {

TEST(StableStringMap, FindOrInsertReturnsTheSameEntryForTheSameKey) {
  StableStringMap<int> map;
  map.find_or_insert("a").value = 7;

  EXPECT_EQ(map.find_or_insert("a").value, 7);
  EXPECT_EQ(map.find_or_insert("b").value, 0);
  EXPECT_EQ(map.size(), 2u);
}

TEST(StableStringMap, FindReportsAMissingKey) {
  StableStringMap<int> map;
  EXPECT_EQ(map.find("a"), nullptr);
  map.find_or_insert("a");

  EXPECT_NE(map.find("a"), nullptr);
  EXPECT_EQ(map.find("b"), nullptr);
}

TEST(StableStringMap, EntriesKeepTheirAddressWhileTheIndexGrows) {
  StableStringMap<int> map;
  std::vector<StableStringMap<int>::Entry*> first;
  for (int i = 0; i < 100; ++i) first.push_back(&map.find_or_insert("k" + std::to_string(i)));
  for (int i = 100; i < 10000; ++i) map.find_or_insert("k" + std::to_string(i));

  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(map.find("k" + std::to_string(i)), first[i]);
    EXPECT_EQ(first[i]->key, "k" + std::to_string(i));
  }
}

TEST(StableStringMap, EraseIfKeepsTheOthersFindableAtTheirAddress) {
  StableStringMap<int> map;
  for (int i = 0; i < 1000; ++i) map.find_or_insert("k" + std::to_string(i)).value = i;
  StableStringMap<int>::Entry* kept = map.find("k501");

  map.erase_if([](int value) { return value % 2 == 0; });

  EXPECT_EQ(map.size(), 500u);
  EXPECT_EQ(map.find("k500"), nullptr);
  EXPECT_EQ(map.find("k501"), kept);
  int found = 0;
  for (int i = 1; i < 1000; i += 2) found += map.find("k" + std::to_string(i)) != nullptr;
  EXPECT_EQ(found, 500);
}

TEST(StableStringMap, KeysAreWholeStringsNotPrefixes) {
  StableStringMap<int> map;
  map.find_or_insert("user-1").value = 1;
  map.find_or_insert("user-10").value = 10;
  map.find_or_insert("").value = -1;

  EXPECT_EQ(map.find("user-1")->value, 1);
  EXPECT_EQ(map.find("user-10")->value, 10);
  EXPECT_EQ(map.find("")->value, -1);
}

}  // namespace
}  // namespace sluice::engine
