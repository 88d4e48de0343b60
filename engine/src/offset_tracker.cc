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
  if (state.first_tracked < 0) state.first_tracked = offset;
  state.window.push_back({offset, false});
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
  advance(state);
}

void OffsetTracker::advance(PartitionState& state) {
  while (!state.window.empty() && state.window.front().done) {
    state.watermark = state.window.front().offset + 1;
    state.window.pop_front();
  }
}

CommitPosition OffsetTracker::position_of(int32_t partition, const PartitionState& state) {
  // Nothing completed in order yet: the first offset read is still the
  // position, everything before it was committed by someone else.
  CommitPosition position{partition, state.watermark >= 0 ? state.watermark : state.first_tracked,
                          {}};
  for (const Entry& entry : state.window) {
    if (entry.done) position.done_above.push_back(entry.offset);
  }
  return position;
}

std::vector<CommitPosition> OffsetTracker::committable() const {
  std::vector<CommitPosition> positions;
  for (const auto& [partition, state] : partitions_) {
    if (state.watermark > state.committed) positions.push_back(position_of(partition, state));
  }
  return positions;
}

std::vector<CommitPosition> OffsetTracker::handover_positions() const {
  std::vector<CommitPosition> positions;
  for (const auto& [partition, state] : partitions_) {
    if (state.first_tracked >= 0) positions.push_back(position_of(partition, state));
  }
  return positions;
}

void OffsetTracker::skip_done(int32_t partition, std::vector<int64_t> offsets) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return;
  it->second.skips.assign(offsets.begin(), offsets.end());
}

bool OffsetTracker::take_skip(int32_t partition, int64_t offset) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return false;
  std::deque<int64_t>& skips = it->second.skips;
  while (!skips.empty() && skips.front() < offset) skips.pop_front();
  if (skips.empty() || skips.front() != offset) return false;
  skips.pop_front();
  return true;
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
  for (const auto& [partition, state] : partitions_) {
    total += std::count_if(state.window.begin(), state.window.end(),
                           [](const Entry& entry) { return !entry.done; });
  }
  return total;
}

}  // namespace sluice::engine
