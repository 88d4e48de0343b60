#include "key_dispatcher.h"

#include "sluice/status.h"

namespace sluice::engine {

KeyDispatcher::KeyDispatcher(size_t max_in_flight)
    : max_in_flight_(max_in_flight) {
  SLUICE_CHECK(max_in_flight > 0, "concurrency must be at least 1");
}

namespace {
constexpr size_t kMaxIdleLanes = 16384;

bool is_idle(const auto& lane) {
  return !lane.busy && !lane.queued_ready && !lane.has_waiting();
}
}  // namespace

KeyDispatcher::LaneEntry& KeyDispatcher::lane_for(std::string_view key) {
  size_t before = lanes_.size();
  LaneEntry& lane = lanes_.find_or_insert(key);
  if (lanes_.size() == before && is_idle(lane.value)) --idle_lanes_;
  return lane;
}

void KeyDispatcher::became_idle() {
  if (++idle_lanes_ <= kMaxIdleLanes) return;
  lanes_.erase_if([](const Lane& lane) { return is_idle(lane); });
  idle_lanes_ = 0;
}

void KeyDispatcher::push_waiting(Lane& lane, TaskId id) {
  uint32_t node;
  if (free_nodes_ != kNoNode) {
    node = free_nodes_;
    free_nodes_ = nodes_[node].next;
  } else {
    node = static_cast<uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  nodes_[node] = {id, kNoNode};
  if (lane.tail == kNoNode) {
    lane.head = node;
  } else {
    nodes_[lane.tail].next = node;
  }
  lane.tail = node;
  ++waiting_;
}

KeyDispatcher::TaskId KeyDispatcher::pop_waiting(Lane& lane) {
  uint32_t node = lane.head;
  TaskId id = nodes_[node].id;
  lane.head = nodes_[node].next;
  if (lane.head == kNoNode) lane.tail = kNoNode;
  nodes_[node].next = free_nodes_;
  free_nodes_ = node;
  --waiting_;
  return id;
}

KeyDispatcher::LaneRef KeyDispatcher::enqueue(std::string_view key, TaskId id) {
  LaneEntry& lane = lane_for(key);
  push_waiting(lane.value, id);
  make_ready(lane);
  return LaneRef{&lane};
}

void KeyDispatcher::make_ready(LaneEntry& lane) {
  Lane& l = lane.value;
  if (l.busy || l.queued_ready || !l.has_waiting()) return;
  l.queued_ready = true;
  ready_.push_back(&lane);
}

std::optional<KeyDispatcher::TaskId> KeyDispatcher::next_ready() {
  while (in_flight_ < max_in_flight_ && !ready_.empty()) {
    Lane& lane = ready_.front()->value;
    ready_.pop_front();
    lane.queued_ready = false;
    // A lane may have been emptied by remove_waiting_if() after it was
    // queued; then it is idle now.
    if (!lane.has_waiting()) {
      if (!lane.busy) became_idle();
      continue;
    }
    TaskId id = pop_waiting(lane);
    lane.busy = true;
    ++in_flight_;
    return id;
  }
  return std::nullopt;
}

void KeyDispatcher::finish(LaneRef lane) {
  SLUICE_CHECK(in_flight_ > 0, "finish() without a task in flight");
  --in_flight_;
  release(static_cast<LaneEntry*>(lane.lane));
}

void KeyDispatcher::release_slot() {
  SLUICE_CHECK(in_flight_ > 0, "release_slot() without a task in flight");
  --in_flight_;
}

bool KeyDispatcher::take_slot() {
  if (in_flight_ >= max_in_flight_) return false;
  ++in_flight_;
  return true;
}

void KeyDispatcher::release_key(LaneRef lane) {
  release(static_cast<LaneEntry*>(lane.lane));
}

void KeyDispatcher::release(LaneEntry* entry) {
  Lane& lane = entry->value;
  SLUICE_CHECK(lane.busy, "released a key that was not busy");
  lane.busy = false;
  if (!lane.has_waiting()) {
    became_idle();
    return;
  }
  lane.queued_ready = true;  // busy until now, so not queued yet
  ready_.push_back(entry);
}

void KeyDispatcher::remove_waiting_if(const std::function<bool(TaskId)>& drop) {
  lanes_.for_each([&](const std::string&, Lane& lane) {
    // Rebuilt from its kept tasks, in order; dropped nodes go back to the free list.
    uint32_t node = lane.head;
    lane.head = lane.tail = kNoNode;
    while (node != kNoNode) {
      uint32_t next = nodes_[node].next;
      TaskId id = nodes_[node].id;
      nodes_[node].next = free_nodes_;
      free_nodes_ = node;
      --waiting_;
      if (!drop(id)) push_waiting(lane, id);
      node = next;
    }
  });
  // Lanes left empty stay: next_ready() skips them once queued, and
  // became_idle() sweeps idle lanes out past kMaxIdleLanes.
}

}  // namespace sluice::engine
