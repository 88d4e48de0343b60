#include "offset_tracker.h"

#include <algorithm>

#include "sluice/status.h"

namespace sluice::engine {

void OffsetTracker::assign(int32_t partition) { partitions_[partition] = {}; }

void OffsetTracker::revoke(int32_t partition) { partitions_.erase(partition); }

bool OffsetTracker::is_assigned(int32_t partition) const {
  return partitions_.count(partition) != 0;
}

bool OffsetTracker::track(int32_t partition, int64_t offset) {
  auto it = partitions_.find(partition);
  SLUICE_CHECK(it != partitions_.end(), "track() on an unassigned partition");
  PartitionState& state = it->second;
  int64_t last = state.window.empty() ? state.watermark - 1
                                      : state.window.back().offset;
  if (offset <= last) return false;
  state.window.push_back({offset, false});
  ++state.pending;
  return true;
}

void OffsetTracker::complete(int32_t partition, int64_t offset) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return;
  PartitionState& state = it->second;
  // The window is sorted by offset: binary search keeps this O(log n) even
  // with many tasks in flight.
  auto entry = std::lower_bound(
      state.window.begin(), state.window.end(), offset,
      [](const Entry& e, int64_t o) { return e.offset < o; });
  if (entry == state.window.end() || entry->offset != offset || entry->done) {
    return;
  }
  entry->done = true;
  --state.pending;
  advance(state);
}

void OffsetTracker::advance(PartitionState& state) {
  while (!state.window.empty() && state.window.front().done) {
    state.watermark = state.window.front().offset + 1;
    state.window.pop_front();
  }
}

std::vector<CommitPosition> OffsetTracker::committable() const {
  std::vector<CommitPosition> positions;
  for (const auto& [partition, state] : partitions_) {
    if (state.watermark > state.committed) {
      positions.push_back({partition, state.watermark});
    }
  }
  return positions;
}

std::optional<int64_t> OffsetTracker::committable(int32_t partition) const {
  auto it = partitions_.find(partition);
  if (it == partitions_.end() || it->second.watermark < 0) return std::nullopt;
  return it->second.watermark;
}

void OffsetTracker::mark_committed(const std::vector<CommitPosition>& positions) {
  for (const CommitPosition& position : positions) {
    auto it = partitions_.find(position.partition);
    if (it == partitions_.end()) continue;
    it->second.committed = std::max(it->second.committed, position.next_offset);
  }
}

void OffsetTracker::forget_commit(int32_t partition) {
  auto it = partitions_.find(partition);
  if (it != partitions_.end()) it->second.committed = -1;
}

size_t OffsetTracker::pending() const {
  size_t total = 0;
  for (const auto& [partition, state] : partitions_) total += state.pending;
  return total;
}

}  // namespace sluice::engine
