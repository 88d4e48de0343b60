#include "stage_state_view.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "state_keys.h"
#include "test_dir.h"

namespace sluice::engine {
namespace {

namespace fs = std::filesystem;
using Scope = StageState::Scope;
using Pairs = std::vector<std::pair<std::string, std::string>>;

class StageStateViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sluice::testing::fresh_test_dir("sluice-view");
    auto store = StateStore::open(dir_);
    ASSERT_TRUE(store.is_ok()) << store.status().message();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->open_partition(0).is_ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // What an earlier task of `key` left in the store.
  void stored(const std::string& key, const std::string& name, std::string value,
              Scope scope = Scope::kKey) {
    StateWrites writes;
    StageStateView view(1 << 20);
    view.bind(store_.get(), 0, key, &writes);
    ASSERT_TRUE(view.put(name, std::move(value), scope).is_ok());
    ASSERT_TRUE(store_->apply(0, writes).is_ok());
  }

  // The first `most` entries a scan visits (it is stopped there).
  Pairs scan(StageStateView& view, const std::string& prefix, Scope scope = Scope::kKey,
             size_t most = SIZE_MAX) {
    Pairs seen;
    Status s = view.scan(prefix, [&](std::string_view name, std::string_view value) {
      seen.emplace_back(name, value);
      return seen.size() < most;
    }, scope);
    EXPECT_TRUE(s.is_ok()) << s.message();
    return seen;
  }

  fs::path dir_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(StageStateViewTest, ATaskReadsItsOwnWritesFirstAndTheStoreKeepsThemUntilApplied) {
  stored("user-1", "count", "4");
  StateWrites writes;
  StageStateView view(1 << 20);
  view.bind(store_.get(), 0, "user-1", &writes);
  EXPECT_EQ(*view.get("count", Scope::kKey), "4");
  ASSERT_TRUE(view.put("count", "5", Scope::kKey).is_ok());
  EXPECT_EQ(*view.get("count", Scope::kKey), "5");
  view.erase("count", Scope::kKey);
  EXPECT_EQ(*view.get("count", Scope::kKey), std::nullopt);
  // Staged only: the store still has what the last applied task wrote.
  auto in_store = store_->get(
      0, encode_state_key({StateKey::Scope::kTaskKey, "user-1", "count"}));
  EXPECT_EQ(*in_store, "4");
}

TEST_F(StageStateViewTest, KeysAndScopesAreSeparate) {
  stored("user-1", "count", "1");
  stored("user-2", "count", "2");
  stored("", "count", "all", Scope::kPartition);
  StateWrites writes;
  StageStateView view(1 << 20);
  view.bind(store_.get(), 0, "user-2", &writes);
  EXPECT_EQ(*view.get("count", Scope::kKey), "2");
  EXPECT_EQ(*view.get("count", Scope::kPartition), "all");
  view.bind(store_.get(), 0, "user-3", &writes);
  EXPECT_EQ(*view.get("count", Scope::kKey), std::nullopt);
}

TEST_F(StageStateViewTest, AScanLaysTheTasksWritesOverTheStoreInOrder) {
  stored("job", "part-1", "a");
  stored("job", "part-2", "b");
  stored("job", "part-3", "c");
  stored("job", "total", "3");
  stored("job-2", "part-9", "other key");
  StateWrites writes;
  StageStateView view(1 << 20);
  view.bind(store_.get(), 0, "job", &writes);
  ASSERT_TRUE(view.put("part-0", "new", Scope::kKey).is_ok());
  ASSERT_TRUE(view.put("part-2", "B", Scope::kKey).is_ok());
  view.erase("part-3", Scope::kKey);
  EXPECT_EQ(scan(view, "part-"),
            (Pairs{{"part-0", "new"}, {"part-1", "a"}, {"part-2", "B"}}));
  EXPECT_EQ(scan(view, "").size(), 4u);  // the three parts and the total
}

TEST_F(StageStateViewTest, AScanMergesStagedNamesBeforeBetweenAndAfterTheStoredOnes) {
  stored("", "exp/2", "b", Scope::kPartition);
  stored("", "exp/4", "d", Scope::kPartition);
  StateWrites writes;
  StageStateView view(1 << 20);
  view.bind(store_.get(), 0, "any", &writes);
  for (const char* name : {"exp/1", "exp/3", "exp/5"}) {
    ASSERT_TRUE(view.put(name, "staged", Scope::kPartition).is_ok());
  }
  view.erase("exp/4", Scope::kPartition);
  EXPECT_EQ(scan(view, "exp/", Scope::kPartition),
            (Pairs{{"exp/1", "staged"}, {"exp/2", "b"}, {"exp/3", "staged"}, {"exp/5", "staged"}}));
  // Stopped by its visitor, a scan goes no further.
  EXPECT_EQ(scan(view, "exp/", Scope::kPartition, 2),
            (Pairs{{"exp/1", "staged"}, {"exp/2", "b"}}));
}

TEST_F(StageStateViewTest, WritesOverTheBoundFailTheTaskAndLeaveItsWritesAsTheyWere) {
  StateWrites writes;
  StageStateView view(1024);
  view.bind(store_.get(), 0, "k", &writes);
  ASSERT_TRUE(view.put("a", std::string(900, 'x'), Scope::kKey).is_ok());
  // Replacing a value counts its new size only.
  ASSERT_TRUE(view.put("a", std::string(1000, 'y'), Scope::kKey).is_ok());
  Status over = view.put("b", std::string(100, 'z'), Scope::kKey);
  EXPECT_EQ(over.code(), StatusCode::kInvalidInput);
  EXPECT_NE(over.message().find("over max_state_bytes 1024"), std::string::npos)
      << over.message();
  EXPECT_EQ(*view.get("b", Scope::kKey), std::nullopt);
  EXPECT_EQ(writes.latest().size(), 1u);
}

}  // namespace
}  // namespace sluice::engine
