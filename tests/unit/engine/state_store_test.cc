#include "state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "test_dir.h"

namespace sluice::engine {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sluice::testing::fresh_test_dir("sluice-state");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<StateStore> open_store() {
    auto store = StateStore::open(dir_);
    EXPECT_TRUE(store.is_ok()) << store.status().message();
    return store.is_ok() ? std::move(store).value() : nullptr;
  }

  static void put(StateStore& store, int32_t partition, std::string key, std::string value) {
    StateWrites writes;
    writes.put(std::move(key), std::move(value));
    ASSERT_TRUE(store.apply(partition, writes).is_ok());
  }

  static std::optional<std::string> get(const StateStore& store, int32_t partition,
                                        const std::string& key) {
    auto value = store.get(partition, key);
    EXPECT_TRUE(value.is_ok()) << value.status().message();
    return value.is_ok() ? *value : std::nullopt;
  }

  static int64_t open_partition(StateStore& store, int32_t partition) {
    auto from = store.open_partition(partition);
    EXPECT_TRUE(from.is_ok()) << from.status().message();
    return from.is_ok() ? *from : -1;
  }

  // A store whose `partition` holds a=1 and was closed cleanly at `offset`.
  void close_cleanly_with_one_key(int32_t partition, int64_t offset) {
    auto store = open_store();
    ASSERT_TRUE(store);
    open_partition(*store, partition);
    put(*store, partition, "a", "1");
    ASSERT_TRUE(store->close_partition(partition, offset).is_ok());
  }

  fs::path dir_;
};

TEST_F(StateStoreTest, ACleanCloseKeepsTheStateAndRestoresFromItsCheckpoint) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    EXPECT_EQ(open_partition(*store, 0), 0);  // a new partition restores from the start
    put(*store, 0, "a", "1");
    put(*store, 0, "b", "2");
    ASSERT_TRUE(store->close_partition(0, 42).is_ok());
    EXPECT_FALSE(store->is_open(0));
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(open_partition(*store, 0), 42);
  EXPECT_EQ(get(*store, 0, "a"), "1");
  EXPECT_EQ(get(*store, 0, "b"), "2");
}

TEST_F(StateStoreTest, StateThatWasOpenWhenTheProcessStoppedIsWipedAndRestoredFromTheStart) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    open_partition(*store, 0);
    put(*store, 0, "a", "1");
  }  // no close_partition: as when the process dies (RocksDB still flushed on close)
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(open_partition(*store, 0), 0);
  EXPECT_EQ(get(*store, 0, "a"), std::nullopt);
}

TEST_F(StateStoreTest, ACheckpointCountsOnceOnly) {
  close_cleanly_with_one_key(3, 7);
  ASSERT_FALSE(HasFatalFailure());
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    EXPECT_EQ(open_partition(*store, 3), 7);
    put(*store, 3, "b", "2");  // then a crash: this write may be ahead of the changelog
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(open_partition(*store, 3), 0);
  EXPECT_EQ(get(*store, 3, "a"), std::nullopt);
  EXPECT_EQ(get(*store, 3, "b"), std::nullopt);
}

// A partition revoked and assigned again to the same worker: its column
// family is still in the database.
TEST_F(StateStoreTest, APartitionClosedOrAbandonedOpensAgainInTheSameStore) {
  auto store = open_store();
  ASSERT_TRUE(store);
  open_partition(*store, 1);
  put(*store, 1, "a", "1");
  ASSERT_TRUE(store->close_partition(1, 9).is_ok());
  EXPECT_EQ(open_partition(*store, 1), 9);
  EXPECT_EQ(get(*store, 1, "a"), "1");

  store->abandon_partition(1);
  EXPECT_FALSE(store->is_open(1));
  EXPECT_EQ(open_partition(*store, 1), 0);
  EXPECT_EQ(get(*store, 1, "a"), std::nullopt);
}

TEST_F(StateStoreTest, AMalformedCheckpointCountsAsNone) {
  close_cleanly_with_one_key(0, 42);
  ASSERT_FALSE(HasFatalFailure());
  std::ofstream(dir_ / "checkpoints" / "p0", std::ios::trunc) << "4x2";
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(open_partition(*store, 0), 0);
  EXPECT_EQ(get(*store, 0, "a"), std::nullopt);
}

TEST_F(StateStoreTest, PartitionsAreSeparateAndOneIsWipedAlone) {
  auto store = open_store();
  ASSERT_TRUE(store);
  open_partition(*store, 0);
  open_partition(*store, 1);
  put(*store, 0, "k", "zero");
  put(*store, 1, "k", "one");
  EXPECT_EQ(get(*store, 0, "k"), "zero");
  EXPECT_EQ(get(*store, 1, "k"), "one");

  ASSERT_TRUE(store->wipe_partition(0).is_ok());
  EXPECT_TRUE(store->is_open(0));
  EXPECT_EQ(get(*store, 0, "k"), std::nullopt);
  EXPECT_EQ(get(*store, 1, "k"), "one");
}

TEST_F(StateStoreTest, DeletesAndPrefixScansInKeyOrder) {
  auto store = open_store();
  ASSERT_TRUE(store);
  open_partition(*store, 0);
  StateWrites writes;
  for (const char* key : {"job/2", "job/1", "job/3", "jobs", "other"}) writes.put(key, key);
  writes.erase("job/3");
  ASSERT_TRUE(store->apply(0, writes).is_ok());

  std::vector<std::pair<std::string, std::string>> seen;
  auto visit = [&](std::string_view key, std::string_view value) {
    seen.emplace_back(key, value);
    return true;
  };
  ASSERT_TRUE(store->scan(0, "job/", visit).is_ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"job/1", "job/1"},
                                                                    {"job/2", "job/2"}}));
  seen.clear();
  ASSERT_TRUE(store->scan(0, "job", [&](std::string_view key, std::string_view value) {
                      seen.emplace_back(key, value);
                      return seen.size() < 2;  // stops early
                    }).is_ok());
  EXPECT_EQ(seen.size(), 2u);
}

// apply() buffers writes (StateStore::kPendingEntries): a buffered delete
// hides a value already in RocksDB, and a clean close writes the buffer
// before its checkpoint; past the bound, writes reach RocksDB unasked.
TEST_F(StateStoreTest, BufferedWritesAreReadBackAndReachTheCheckpoint) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    open_partition(*store, 0);
    put(*store, 0, "gone", "1");
    ASSERT_TRUE(store->scan(0, "", [](std::string_view, std::string_view) { return true; })
                    .is_ok());  // a scan writes the buffer out first
    StateWrites erase;
    erase.erase("gone");
    ASSERT_TRUE(store->apply(0, erase).is_ok());
    EXPECT_EQ(get(*store, 0, "gone"), std::nullopt);
    StateWrites many;
    for (size_t i = 0; i <= StateStore::kPendingEntries; ++i) many.put("k" + std::to_string(i), "v");
    ASSERT_TRUE(store->apply(0, many).is_ok());
    put(*store, 0, "last", "2");
    ASSERT_TRUE(store->close_partition(0, 42).is_ok());
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(open_partition(*store, 0), 42);
  EXPECT_EQ(get(*store, 0, "gone"), std::nullopt);
  EXPECT_EQ(get(*store, 0, "k0"), "v");
  EXPECT_EQ(get(*store, 0, "last"), "2");
}

TEST_F(StateStoreTest, MisuseAndASecondOpenAreClearErrors) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto unopened = store->get(5, "k");
  ASSERT_FALSE(unopened.is_ok());
  EXPECT_EQ(unopened.status().message(), "state store: partition 5 is not open");
  open_partition(*store, 5);
  auto twice = store->open_partition(5);
  ASSERT_FALSE(twice.is_ok());
  EXPECT_EQ(twice.status().message(), "state store: partition 5 is already open");

  // RocksDB's LOCK file: the same directory cannot be opened twice.
  auto second = StateStore::open(dir_);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFatal);
  EXPECT_THAT(second.status().message(),
              HasSubstr("(is another worker using " + dir_.string() + "?)"));
}

TEST(StateWrites, TheLastWriteOfAKeyWinsAndItsBytesAreCounted) {
  StateWrites writes;
  EXPECT_TRUE(writes.empty());
  EXPECT_EQ(writes.find("a"), nullptr);
  writes.put("a", "12345");
  writes.put("a", "1");
  writes.put("bb", "22");
  EXPECT_EQ(writes.bytes(), 1u + 1u + 2u + 2u);
  writes.erase("bb");
  EXPECT_EQ(writes.bytes(), 1u + 1u + 2u);
  ASSERT_NE(writes.find("a"), nullptr);
  EXPECT_EQ(*writes.find("a"), "1");
  ASSERT_NE(writes.find("bb"), nullptr);
  EXPECT_EQ(*writes.find("bb"), std::nullopt);  // deleted by this task
  EXPECT_EQ(writes.latest().size(), 2u);
}

}  // namespace
}  // namespace sluice::engine
