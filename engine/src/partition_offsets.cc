#include "partition_offsets.h"

#include <algorithm>

#include "sluice/status.h"

namespace sluice::engine {

PartitionOffsets::PartitionOffsets(int64_t start, std::vector<OffsetRange> skips)
    : start_(start), watermark_(start), next_(start) {
  SLUICE_CHECK(start >= 0, "a partition's start is an offset");
  for (const OffsetRange& range : skips) {
    if (range.last < start || range.last < range.first) continue;
    SLUICE_CHECK(skips_.empty() || range.first > skips_.back().last, "skips must ascend");
    skips_.push_back({std::max(range.first, start), range.last});
  }
}

PartitionOffsets PartitionOffsets::from_first_fetch() { return PartitionOffsets(); }

PartitionOffsets::Intake PartitionOffsets::take(int64_t offset) {
  if (!start_) start_ = watermark_ = next_ = offset;
  if (offset < next_) return Intake::kStale;
  next_ = offset + 1;
  bool skipped = take_skip(offset);
  if (skipped && (window_.empty() || !window_.back().done)) ++done_runs_;
  window_.push_back({offset, skipped});
  if (skipped) advance();
  if (!skipped) ++pending_;
  return skipped ? Intake::kSkip : Intake::kTrack;
}

bool PartitionOffsets::take_skip(int64_t offset) {
  while (!skips_.empty() && skips_.front().last < offset) skips_.pop_front();
  if (skips_.empty() || skips_.front().first > offset) return false;
  if (skips_.front().last == offset) {
    skips_.pop_front();
  } else {
    skips_.front().first = offset + 1;
  }
  return true;
}

void PartitionOffsets::complete(int64_t offset) {
  // The window ascends: binary search keeps this O(log n) with many in flight.
  auto entry = std::lower_bound(window_.begin(), window_.end(), offset,
                                [](const Entry& e, int64_t o) { return e.offset < o; });
  if (entry == window_.end() || entry->offset != offset || entry->done) return;
  entry->done = true;
  done_changed_ = true;
  --pending_;
  // It starts a run, extends one, or joins two.
  bool left_done = entry != window_.begin() && std::prev(entry)->done;
  bool right_done = std::next(entry) != window_.end() && std::next(entry)->done;
  if (!left_done && !right_done) ++done_runs_;
  if (left_done && right_done) --done_runs_;
  advance();
}

void PartitionOffsets::pass_to(int64_t position) {
  if (!start_ || !window_.empty() || position <= next_) return;
  while (!skips_.empty() && skips_.front().last < position) skips_.pop_front();
  if (!skips_.empty() && skips_.front().first < position) skips_.front().first = position;
  next_ = watermark_ = position;
}

void PartitionOffsets::advance() {
  // A done front is the first run: it goes whole.
  if (!window_.empty() && window_.front().done) --done_runs_;
  while (!window_.empty() && window_.front().done) {
    watermark_ = window_.front().offset + 1;
    window_.pop_front();
  }
  if (window_.empty()) watermark_ = std::max(watermark_, next_);
}

std::vector<OffsetRange> PartitionOffsets::done_above() const {
  std::vector<OffsetRange> ranges;
  // Consecutive done entries form one range, even across a gap in the
  // offsets: no record lives in the gap.
  bool extending = false;
  for (const Entry& entry : window_) {
    if (!entry.done) {
      extending = false;
    } else if (extending) {
      ranges.back().last = entry.offset;
    } else {
      ranges.push_back({entry.offset, entry.offset});
      extending = true;
    }
  }
  for (OffsetRange skip : skips_) {
    if (skip.last < watermark_) continue;
    skip.first = std::max(skip.first, watermark_);
    if (!ranges.empty() && skip.first <= ranges.back().last + 1) {
      ranges.back().last = std::max(ranges.back().last, skip.last);
    } else {
      ranges.push_back(skip);
    }
  }
  return ranges;
}

void PartitionOffsets::mark_committed(int64_t position) {
  committed_ = std::max(committed_, position);
  done_changed_ = false;
}

PartitionOffsets PartitionOffsets::rewound() const {
  SLUICE_CHECK(started(), "rewound() before the start is known");
  PartitionOffsets fresh(watermark_, done_above());
  fresh.committed_ = committed_;
  return fresh;
}

}  // namespace sluice::engine
