#include "key_dispatcher.h"

#include "sluice/status.h"

namespace sluice::engine {

KeyDispatcher::KeyDispatcher(size_t max_in_flight)
    : max_in_flight_(max_in_flight) {
  SLUICE_CHECK(max_in_flight > 0, "concurrency must be at least 1");
}

namespace {
constexpr size_t kMaxSpareLanes = 1024;
}

KeyDispatcher::Lanes::iterator KeyDispatcher::lane_for(std::string_view key) {
  auto lane = lanes_.find(key);
  if (lane != lanes_.end()) return lane;
  if (spare_lanes_.empty()) return lanes_.try_emplace(std::string(key)).first;
  Lanes::node_type node = std::move(spare_lanes_.back());
  spare_lanes_.pop_back();
  node.key().assign(key.data(), key.size());
  return lanes_.insert(std::move(node)).position;
}

void KeyDispatcher::retire(Lanes::iterator lane) {
  if (spare_lanes_.size() >= kMaxSpareLanes) {
    lanes_.erase(lane);
    return;
  }
  Lanes::node_type node = lanes_.extract(lane);
  node.mapped().waiting.clear();
  node.mapped().busy = false;
  node.mapped().queued_ready = false;
  spare_lanes_.push_back(std::move(node));
}

void KeyDispatcher::enqueue(std::string_view key, TaskId id) {
  auto lane = lane_for(key);
  lane->second.waiting.push_back(id);
  ++waiting_;
  make_ready(lane);
}

void KeyDispatcher::make_ready(Lanes::iterator lane) {
  Lane& l = lane->second;
  if (l.busy || l.queued_ready || l.waiting.empty()) return;
  l.queued_ready = true;
  ready_.push_back(&*lane);
}

std::optional<KeyDispatcher::TaskId> KeyDispatcher::next_ready() {
  while (in_flight_ < max_in_flight_ && !ready_.empty()) {
    Lanes::value_type* entry = ready_.front();
    Lane& lane = entry->second;
    ready_.pop_front();
    lane.queued_ready = false;
    // A lane may have been emptied by remove_waiting_if() after it was
    // queued; it is idle now, so it goes.
    if (lane.waiting.empty()) {
      if (!lane.busy) retire(lanes_.find(std::string_view(entry->first)));
      continue;
    }
    TaskId id = lane.waiting.front();
    lane.waiting.pop_front();
    --waiting_;
    lane.busy = true;
    ++in_flight_;
    return id;
  }
  return std::nullopt;
}

void KeyDispatcher::finish(std::string_view key) {
  SLUICE_CHECK(in_flight_ > 0, "finish() without a task in flight");
  --in_flight_;
  release_key(key);
}

void KeyDispatcher::park() {
  SLUICE_CHECK(in_flight_ > 0, "park() without a task in flight");
  --in_flight_;
}

bool KeyDispatcher::try_unpark() {
  if (in_flight_ >= max_in_flight_) return false;
  ++in_flight_;
  return true;
}

void KeyDispatcher::finish_parked(std::string_view key) { release_key(key); }

void KeyDispatcher::release_key(std::string_view key) {
  auto lane = lanes_.find(key);
  SLUICE_CHECK(lane != lanes_.end() && lane->second.busy,
               "released a key that was not busy");
  lane->second.busy = false;
  if (lane->second.waiting.empty() && !lane->second.queued_ready) {
    retire(lane);  // idle lanes would cost memory per distinct key
    return;
  }
  make_ready(lane);
}

void KeyDispatcher::remove_waiting_if(const std::function<bool(TaskId)>& drop) {
  for (auto& [key, lane] : lanes_) {
    auto& waiting = lane.waiting;
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (drop(*it)) {
        it = waiting.erase(it);
        --waiting_;
      } else {
        ++it;
      }
    }
  }
  // Lanes left idle are erased lazily: next_ready() skips empty ones and
  // release_key() erases them once idle.
}

}  // namespace sluice::engine
