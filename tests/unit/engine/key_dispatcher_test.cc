#include "key_dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace sluice::engine {
namespace {

using ::testing::ElementsAre;
using TaskId = KeyDispatcher::TaskId;

// The dispatcher as the worker uses it, with keys named in the tests: each
// enqueue() remembers its key's lane, and finishing a key finishes that lane.
class TestDispatcher : public KeyDispatcher {
 public:
  using KeyDispatcher::KeyDispatcher;
  using KeyDispatcher::finish;
  using KeyDispatcher::release_key;

  LaneRef enqueue(const std::string& key, TaskId id) {
    return lanes_[key] = KeyDispatcher::enqueue(key, id);
  }
  void finish(const std::string& key) { finish(lanes_.at(key)); }
  void release_key(const std::string& key) { release_key(lanes_.at(key)); }

 private:
  std::map<std::string, LaneRef> lanes_;
};

// Starts every task the dispatcher allows right now, in the order it gives.
std::vector<TaskId> start_all(KeyDispatcher& dispatcher) {
  std::vector<TaskId> started;
  while (auto id = dispatcher.next_ready()) started.push_back(*id);
  return started;
}

TEST(KeyDispatcher, FirstTaskOfAKeyIsReadyAtOnce) {
  TestDispatcher dispatcher(4);
  dispatcher.enqueue("a", 1);

  EXPECT_EQ(dispatcher.next_ready(), std::optional<TaskId>(1));
  EXPECT_EQ(dispatcher.in_flight(), 1u);
  EXPECT_EQ(dispatcher.waiting(), 0u);
}

TEST(KeyDispatcher, SecondTaskOfAKeyIsNotReadyWhileTheFirstRuns) {
  TestDispatcher dispatcher(4);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("a", 2);

  EXPECT_THAT(start_all(dispatcher), ElementsAre(1));
  EXPECT_EQ(dispatcher.waiting(), 1u);
}

TEST(KeyDispatcher, TaskEnqueuedWhileItsKeyRunsIsNotReady) {
  TestDispatcher dispatcher(4);
  dispatcher.enqueue("a", 1);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));

  dispatcher.enqueue("a", 2);

  EXPECT_THAT(start_all(dispatcher), ElementsAre());
  EXPECT_EQ(dispatcher.waiting(), 1u);
}

TEST(KeyDispatcher, SecondTaskOfAKeyIsReadyAfterTheFirstFinishes) {
  TestDispatcher dispatcher(4);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("a", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));

  dispatcher.finish("a");

  EXPECT_THAT(start_all(dispatcher), ElementsAre(2));
}

TEST(KeyDispatcher, TasksOfOneKeyRunInEnqueueOrder) {
  TestDispatcher dispatcher(4);
  for (TaskId id : {7, 3, 9, 1}) dispatcher.enqueue("a", id);

  std::vector<TaskId> order;
  while (auto id = dispatcher.next_ready()) {
    order.push_back(*id);
    dispatcher.finish("a");
  }

  EXPECT_THAT(order, ElementsAre(7, 3, 9, 1));
}

TEST(KeyDispatcher, DifferentKeysRunInParallelUpToMaxInFlight) {
  TestDispatcher dispatcher(3);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("b", 2);
  dispatcher.enqueue("c", 3);

  EXPECT_THAT(start_all(dispatcher), ElementsAre(1, 2, 3));
  EXPECT_EQ(dispatcher.in_flight(), 3u);
}

TEST(KeyDispatcher, NeverRunsMoreThanMaxInFlight) {
  TestDispatcher dispatcher(2);
  for (TaskId id = 1; id <= 5; ++id) dispatcher.enqueue("k" + std::to_string(id), id);

  EXPECT_THAT(start_all(dispatcher), ElementsAre(1, 2));
  EXPECT_EQ(dispatcher.in_flight(), 2u);
  EXPECT_EQ(dispatcher.waiting(), 3u);
}

TEST(KeyDispatcher, FinishingATaskLetsAnotherKeyStart) {
  TestDispatcher dispatcher(2);
  for (TaskId id = 1; id <= 3; ++id) dispatcher.enqueue("k" + std::to_string(id), id);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1, 2));

  dispatcher.finish("k2");

  EXPECT_THAT(start_all(dispatcher), ElementsAre(3));
  EXPECT_EQ(dispatcher.in_flight(), 2u);
}

TEST(KeyDispatcher, ReadyKeysAreServedRoundRobin) {
  TestDispatcher dispatcher(1);
  // a1 a2 a3 b1 b2 b3 c1 c2 c3, all enqueued up front.
  std::map<TaskId, std::string> key_of;
  for (const char* key : {"a", "b", "c"}) {
    for (int n = 1; n <= 3; ++n) {
      TaskId id = key_of.size() + 1;
      key_of[id] = key;
      dispatcher.enqueue(key, id);
    }
  }

  std::vector<std::string> order;
  while (auto id = dispatcher.next_ready()) {
    order.push_back(key_of[*id]);
    dispatcher.finish(key_of[*id]);
  }

  EXPECT_THAT(order, ElementsAre("a", "b", "c", "a", "b", "c", "a", "b", "c"));
}

TEST(KeyDispatcher, ParkFreesTheSlotForAnotherKey) {
  TestDispatcher dispatcher(1);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("b", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));

  dispatcher.release_slot();

  EXPECT_EQ(dispatcher.in_flight(), 0u);
  EXPECT_THAT(start_all(dispatcher), ElementsAre(2));
}

TEST(KeyDispatcher, ParkKeepsTheKeyBlocked) {
  TestDispatcher dispatcher(4);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("a", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));

  dispatcher.release_slot();

  EXPECT_THAT(start_all(dispatcher), ElementsAre());
  EXPECT_EQ(dispatcher.waiting(), 1u);
}

TEST(KeyDispatcher, TakeSlotFailsWhileAllSlotsAreTaken) {
  TestDispatcher dispatcher(1);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("b", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  dispatcher.release_slot();
  ASSERT_THAT(start_all(dispatcher), ElementsAre(2));

  EXPECT_FALSE(dispatcher.take_slot());
  EXPECT_EQ(dispatcher.in_flight(), 1u);
}

TEST(KeyDispatcher, TakeSlotTakesASlotOnceOneIsFree) {
  TestDispatcher dispatcher(1);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("b", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  dispatcher.release_slot();
  ASSERT_THAT(start_all(dispatcher), ElementsAre(2));
  dispatcher.finish("b");

  EXPECT_TRUE(dispatcher.take_slot());
  EXPECT_EQ(dispatcher.in_flight(), 1u);
}

TEST(KeyDispatcher, UnparkedTaskThatFinishesReleasesItsKey) {
  TestDispatcher dispatcher(2);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("a", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  dispatcher.release_slot();
  ASSERT_TRUE(dispatcher.take_slot());
  ASSERT_THAT(start_all(dispatcher), ElementsAre());

  dispatcher.finish("a");

  EXPECT_THAT(start_all(dispatcher), ElementsAre(2));
}

TEST(KeyDispatcher, FinishParkedReleasesTheKey) {
  TestDispatcher dispatcher(2);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("a", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  dispatcher.release_slot();

  dispatcher.release_key("a");

  EXPECT_THAT(start_all(dispatcher), ElementsAre(2));
}

TEST(KeyDispatcher, FinishParkedDoesNotFreeASlot) {
  TestDispatcher dispatcher(1);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("b", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  dispatcher.release_slot();
  ASSERT_THAT(start_all(dispatcher), ElementsAre(2));

  dispatcher.release_key("a");

  EXPECT_EQ(dispatcher.in_flight(), 1u);
  EXPECT_FALSE(dispatcher.take_slot());
}

TEST(KeyDispatcher, RemoveWaitingIfDropsOnlyTasksTheFilterSelects) {
  TestDispatcher dispatcher(1);
  for (TaskId id = 1; id <= 4; ++id) dispatcher.enqueue("a", id);

  dispatcher.remove_waiting_if([](TaskId id) { return id % 2 == 0; });

  EXPECT_EQ(dispatcher.waiting(), 2u);
  std::vector<TaskId> order;
  while (auto id = dispatcher.next_ready()) {
    order.push_back(*id);
    dispatcher.finish("a");
  }
  EXPECT_THAT(order, ElementsAre(1, 3));
}

TEST(KeyDispatcher, RemoveWaitingIfNeverOffersARunningTask) {
  TestDispatcher dispatcher(2);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("a", 2);
  dispatcher.enqueue("b", 3);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1, 3));

  std::vector<TaskId> offered;
  dispatcher.remove_waiting_if([&](TaskId id) {
    offered.push_back(id);
    return true;
  });

  EXPECT_THAT(offered, ElementsAre(2));
  EXPECT_EQ(dispatcher.in_flight(), 2u);
  EXPECT_EQ(dispatcher.waiting(), 0u);
}

TEST(KeyDispatcher, LaneEmptiedWhileReadyDoesNotBlockLaterTasksOfItsKey) {
  TestDispatcher dispatcher(1);
  dispatcher.enqueue("x", 1);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  dispatcher.enqueue("a", 2);  // "a" is ready, but no slot is free
  dispatcher.remove_waiting_if([](TaskId) { return true; });
  ASSERT_EQ(dispatcher.waiting(), 0u);
  dispatcher.finish("x");
  ASSERT_THAT(start_all(dispatcher), ElementsAre());

  dispatcher.enqueue("a", 3);

  EXPECT_THAT(start_all(dispatcher), ElementsAre(3));
}

TEST(KeyDispatcher, LaneEmptiedWhileReadyAcceptsATaskBeforeItIsSkipped) {
  TestDispatcher dispatcher(1);
  dispatcher.enqueue("x", 1);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  dispatcher.enqueue("a", 2);
  dispatcher.remove_waiting_if([](TaskId id) { return id == 2; });

  dispatcher.enqueue("a", 3);
  dispatcher.finish("x");

  EXPECT_THAT(start_all(dispatcher), ElementsAre(3));
  EXPECT_EQ(dispatcher.waiting(), 0u);
}

TEST(KeyDispatcher, LaneEmptiedWhileItsKeyRunsIsReleasedByFinish) {
  TestDispatcher dispatcher(2);
  dispatcher.enqueue("a", 1);
  dispatcher.enqueue("a", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  dispatcher.remove_waiting_if([](TaskId id) { return id == 2; });

  dispatcher.finish("a");
  EXPECT_THAT(start_all(dispatcher), ElementsAre());
  dispatcher.enqueue("a", 3);

  EXPECT_THAT(start_all(dispatcher), ElementsAre(3));
  EXPECT_EQ(dispatcher.in_flight(), 1u);
}

TEST(KeyDispatcher, EmptiedLanesDoNotTakeSlotsFromOtherKeys) {
  TestDispatcher dispatcher(2);
  for (TaskId id = 1; id <= 2; ++id) dispatcher.enqueue("busy" + std::to_string(id), id);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1, 2));
  for (TaskId id = 10; id < 20; ++id) dispatcher.enqueue("gone" + std::to_string(id), id);
  dispatcher.enqueue("kept", 99);
  dispatcher.remove_waiting_if([](TaskId id) { return id != 99; });
  dispatcher.finish("busy1");
  dispatcher.finish("busy2");

  EXPECT_THAT(start_all(dispatcher), ElementsAre(99));
  EXPECT_EQ(dispatcher.in_flight(), 1u);
  EXPECT_EQ(dispatcher.waiting(), 0u);
}

// Past 16,384 idle keys their lanes are swept out; lanes still in use must
// survive the sweep with their tasks, their order and their references.
TEST(KeyDispatcher, SweepingIdleLanesKeepsTheLanesInUse) {
  TestDispatcher dispatcher(2);
  KeyDispatcher::LaneRef running = dispatcher.enqueue("long", 1);
  dispatcher.enqueue("long", 2);
  ASSERT_THAT(start_all(dispatcher), ElementsAre(1));
  for (TaskId id = 100; id < 100 + 20000; ++id) {
    dispatcher.enqueue("once-" + std::to_string(id), id);
    ASSERT_THAT(start_all(dispatcher), ElementsAre(id));
    dispatcher.finish("once-" + std::to_string(id));
  }
  dispatcher.enqueue("long", 3);

  dispatcher.finish(running);

  EXPECT_THAT(start_all(dispatcher), ElementsAre(2));
  dispatcher.finish("long");
  EXPECT_THAT(start_all(dispatcher), ElementsAre(3));
  EXPECT_EQ(dispatcher.waiting(), 0u);
}

// A reference model of the dispatcher's contract: per key a FIFO of waiting
// ids, and which keys are running (holding a slot) or parked (holding only
// their key).
struct DispatcherModel {
  bool busy(const std::string& key) const {
    return running.count(key) != 0 || parked.count(key) != 0;
  }
  bool any_startable(size_t max_in_flight) const {
    if (running.size() >= max_in_flight) return false;
    for (const auto& [key, ids] : waiting) {
      if (!ids.empty() && !busy(key)) return true;
    }
    return false;
  }
  size_t waiting_count() const {
    size_t n = 0;
    for (const auto& [key, ids] : waiting) n += ids.size();
    return n;
  }

  std::map<std::string, std::deque<TaskId>> waiting;
  std::map<TaskId, std::string> key_of;
  std::set<std::string> running;
  std::set<std::string> parked;
};

// Applies random operations to a dispatcher and the model alike. Each
// operation asserts what the dispatcher must do: a started task is the
// oldest waiting task of an idle key, "nothing ready" only when the model
// agrees, try_unpark() succeeds exactly when a slot is free.
class RandomDriver {
 public:
  static constexpr size_t kMaxInFlight = 4;
  static constexpr int kKeys = 40;

  void step() {
    unsigned op = rng_() % 100;
    if (op < 35) return enqueue();
    if (op < 65) return start();
    if (op < 85 && !model_.running.empty()) return finish();
    if (op < 90 && !model_.running.empty()) return park();
    if (op < 95 && !model_.parked.empty()) return unpark_or_drop();
    if (op < 97) return remove_some();
  }
  void check_counts() const {
    ASSERT_LE(dispatcher_.in_flight(), kMaxInFlight);
    ASSERT_EQ(dispatcher_.in_flight(), model_.running.size());
    ASSERT_EQ(dispatcher_.waiting(), model_.waiting_count());
  }
  size_t started() const { return started_; }

 private:
  std::string pick(const std::set<std::string>& keys) {
    auto it = keys.begin();
    std::advance(it, rng_() % keys.size());
    return *it;
  }
  void enqueue() {
    std::string key = "key" + std::to_string(rng_() % kKeys);
    dispatcher_.enqueue(key, next_id_);
    model_.waiting[key].push_back(next_id_);
    model_.key_of[next_id_++] = key;
  }
  void start() {
    std::optional<TaskId> id = dispatcher_.next_ready();
    if (!id) {
      ASSERT_FALSE(model_.any_startable(kMaxInFlight)) << "a task could start but none did";
      return;
    }
    const std::string& key = model_.key_of.at(*id);
    ASSERT_FALSE(model_.busy(key)) << "task " << *id << " started while key " << key << " is busy";
    std::deque<TaskId>& ids = model_.waiting[key];
    ASSERT_TRUE(!ids.empty() && ids.front() == *id) << "task " << *id << " overtook key " << key;
    ids.pop_front();
    model_.running.insert(key);
    ++started_;
  }
  void finish() {
    std::string key = pick(model_.running);
    dispatcher_.finish(key);
    model_.running.erase(key);
  }
  void park() {
    std::string key = pick(model_.running);
    dispatcher_.release_slot();
    model_.running.erase(key);
    model_.parked.insert(key);
  }
  void unpark_or_drop() {
    std::string key = pick(model_.parked);
    model_.parked.erase(key);
    if (rng_() % 2 == 0) return dispatcher_.release_key(key);
    bool unparked = dispatcher_.take_slot();
    ASSERT_EQ(unparked, model_.running.size() < kMaxInFlight);
    (unparked ? model_.running : model_.parked).insert(key);
  }
  void remove_some() {
    TaskId modulus = 2 + rng_() % 5;
    auto drop = [modulus](TaskId id) { return id % modulus == 0; };
    dispatcher_.remove_waiting_if(drop);
    for (auto& [key, ids] : model_.waiting) std::erase_if(ids, drop);
  }

  std::mt19937 rng_{424242};
  TestDispatcher dispatcher_{kMaxInFlight};
  DispatcherModel model_;
  TaskId next_id_ = 1;
  size_t started_ = 0;
};

TEST(KeyDispatcher, KeepsPerKeyOrderAndTheBoundUnderRandomOperations) {
  RandomDriver driver;
  for (int step = 0; step < 50000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    ASSERT_NO_FATAL_FAILURE(driver.step());
    ASSERT_NO_FATAL_FAILURE(driver.check_counts());
  }
  // The run exercised busy states, not just an idle dispatcher.
  EXPECT_GT(driver.started(), 5000u);
}

}  // namespace
}  // namespace sluice::engine
