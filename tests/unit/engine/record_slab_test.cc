#include "record_slab.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace sluice::engine {
namespace {

struct Item {
  uint64_t id = 0;
  int value = 0;
};

TEST(RecordSlab, FindsWhatItCreatedByItsId) {
  RecordSlab<Item> slab;
  Item& a = slab.create();
  a.value = 1;
  Item& b = slab.create();
  b.value = 2;

  ASSERT_EQ(slab.find(a.id), &a);
  ASSERT_EQ(slab.find(b.id), &b);
  EXPECT_EQ(slab.find(b.id)->value, 2);
  EXPECT_EQ(slab.size(), 2u);
}

TEST(RecordSlab, AStaleIdNeverFindsTheSlotsNextOccupant) {
  RecordSlab<Item> slab;
  Item& first = slab.create();
  uint64_t stale = first.id;
  slab.erase(first);
  Item& second = slab.create();  // reuses the slot

  EXPECT_EQ(&second, &first);
  EXPECT_NE(second.id, stale);
  EXPECT_EQ(slab.find(stale), nullptr);
  EXPECT_EQ(slab.find(second.id), &second);
}

TEST(RecordSlab, RecordsKeepTheirAddressWhileTheSlabGrows) {
  RecordSlab<Item> slab;
  std::vector<Item*> early;
  for (int i = 0; i < 100; ++i) {
    early.push_back(&slab.create());
    early.back()->value = i;
  }
  for (int i = 0; i < 10000; ++i) slab.create();  // several chunks more

  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(slab.find(early[i]->id), early[i]);
    EXPECT_EQ(early[i]->value, i);
  }
  EXPECT_EQ(slab.size(), 10100u);
}

TEST(RecordSlab, ForEachVisitsEveryLiveRecordAndMayEraseIt) {
  RecordSlab<Item> slab;
  for (int i = 0; i < 3000; ++i) slab.create().value = i;
  slab.for_each([&](Item& item) {
    if (item.value % 2 == 0) slab.erase(item);
  });

  int visited = 0;
  slab.for_each([&](Item& item) {
    EXPECT_EQ(item.value % 2, 1);
    ++visited;
  });
  EXPECT_EQ(visited, 1500);
  EXPECT_EQ(slab.size(), 1500u);
  EXPECT_TRUE(slab.any_of([](const Item& item) { return item.value == 2999; }));
  EXPECT_FALSE(slab.any_of([](const Item& item) { return item.value == 0; }));
}

TEST(RecordSlab, AnUnknownIdFindsNothing) {
  RecordSlab<Item> slab;
  EXPECT_EQ(slab.find(0), nullptr);
  EXPECT_EQ(slab.find(12345), nullptr);
  slab.create();
  EXPECT_EQ(slab.find((uint64_t{7} << 32) | 5000), nullptr);  // slot never made
}

}  // namespace
}  // namespace sluice::engine
