// KeyDispatcher: runs tasks in parallel across keys and in order within one.
//
// Each key has a lane (a FIFO of waiting task ids). A lane is runnable when
// no task of its key is running; runnable lanes are served round-robin in the
// order they became runnable, and at most `max_in_flight` tasks run at once.
// This gives per-key order even inside one partition while unrelated keys
// overtake a slow one. A task can give back its in-flight slot but keep its
// key busy (release_slot): one waiting to be retried, or one whose outputs
// await the broker's acks, so later tasks of the same key still wait for it.
// Single-threaded: the worker loop owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stable_string_map.h"

namespace sluice::engine {

class KeyDispatcher {
 public:
  using TaskId = uint64_t;

  explicit KeyDispatcher(size_t max_in_flight);

  // Names a key's lane without a lookup; valid while a task of that key is
  // waiting, running or parked.
  struct LaneRef {
    void* lane = nullptr;
  };

  LaneRef enqueue(std::string_view key, TaskId id);
  // The next task allowed to start, now counted in flight; nullopt if none.
  std::optional<TaskId> next_ready();
  // The running task of `lane` finished: frees its slot and its key.
  void finish(LaneRef lane);
  // A running task stops running but keeps its key: frees its slot only.
  void release_slot();
  // A task that kept its key wants to run again: takes a slot if one is free.
  bool take_slot();
  // The task of `lane` that kept its key (release_slot) ended: frees its key.
  void release_key(LaneRef lane);
  // Removes waiting (not running) tasks for which `drop` is true.
  void remove_waiting_if(const std::function<bool(TaskId)>& drop);

  size_t in_flight() const { return in_flight_; }
  size_t waiting() const { return waiting_; }
  size_t max_in_flight() const { return max_in_flight_; }
  // Whether next_ready() would start a task now: a slot is free and a waiting
  // task's key is not busy. Waiting tasks all behind busy keys are not ready.
  bool has_ready() const { return in_flight_ < max_in_flight_ && !ready_.empty(); }

 private:
  static constexpr uint32_t kNoNode = UINT32_MAX;
  // A lane's waiting tasks are a FIFO linked through nodes_, so a lane is a
  // few words: thousands of keys stay within the cache, where a std::deque
  // per lane (a map and a 512-byte block each) did not.
  struct Lane {
    uint32_t head = kNoNode;
    uint32_t tail = kNoNode;
    bool busy = false;
    bool queued_ready = false;
    bool has_waiting() const { return head != kNoNode; }
  };
  struct WaitingNode {
    TaskId id;
    uint32_t next;  // the next node of its lane, or of the free list
  };
  using Lanes = StableStringMap<Lane>;
  using LaneEntry = Lanes::Entry;

  LaneEntry& lane_for(std::string_view key);
  void release(LaneEntry* lane);
  void make_ready(LaneEntry& lane);
  void became_idle();
  void push_waiting(Lane& lane, TaskId id);
  TaskId pop_waiting(Lane& lane);

  size_t max_in_flight_;
  size_t in_flight_ = 0;
  size_t waiting_ = 0;
  Lanes lanes_;
  std::vector<WaitingNode> nodes_;
  uint32_t free_nodes_ = kNoNode;  // head of the free list through nodes_
  // Runnable lanes in FIFO order. Lanes never move, so the pointers stay
  // valid until the lane is erased (only when idle).
  std::deque<LaneEntry*> ready_;
  // Idle lanes (no task running or waiting) stay in lanes_: most tasks bring
  // a key seen recently, and keeping its lane saves an insert and an erase.
  // Past kMaxIdleLanes they are swept out, so memory stays bounded.
  size_t idle_lanes_ = 0;
};

}  // namespace sluice::engine
