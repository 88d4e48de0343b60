// OffsetTracker: which input offsets are safe to commit, per partition.
//
// Tasks finish out of order (different keys run in parallel), but a commit
// says "everything before next_offset is done". So the tracker remembers every
// offset handed out since the last commit, marks each complete as it finishes,
// and reports the lowest offset still incomplete as the partition's
// committable next_offset. Offsets of one partition are tracked in increasing
// order (the order the consumer returns them); gaps (compaction, transaction
// markers) are fine. Single-threaded: the worker loop owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace sluice::engine {

struct CommitPosition {
  int32_t partition;
  int64_t next_offset;            // last processed offset + 1
  std::vector<int64_t> done_above;  // completed offsets >= next_offset
};

class OffsetTracker {
 public:
  // Starts (or restarts) tracking a partition, forgetting anything known of it.
  void assign(int32_t partition);
  // Stops tracking a partition; its pending offsets are abandoned, uncommitted.
  void revoke(int32_t partition);
  bool is_assigned(int32_t partition) const;

  // Records that `offset` was handed out. Offsets must increase per
  // partition: returns false (tracking nothing) for one that does not.
  [[nodiscard]] bool track(int32_t partition, int64_t offset);
  // Marks a tracked offset done. Unknown offsets (revoked, rewound) are ignored.
  void complete(int32_t partition, int64_t offset);

  // Partitions whose committable next_offset moved since the last call to
  // mark_committed(); empty when there is nothing new to commit.
  std::vector<CommitPosition> committable() const;
  // Committable position of one partition, if any offset completed.
  std::optional<int64_t> committable(int32_t partition) const;
  // Every partition that has a position to commit, moved or not, with its
  // completed offsets above it: for the final commit before a handover.
  std::vector<CommitPosition> handover_positions() const;
  void mark_committed(const std::vector<CommitPosition>& positions);
  // A commit failed: report the partition as committable again.
  void forget_commit(int32_t partition);

  // Offsets the previous owner completed above its commit: intake skips them.
  void skip_done(int32_t partition, std::vector<int64_t> offsets);
  // True (and forgotten) if `offset` was handed over as done.
  bool take_skip(int32_t partition, int64_t offset);

  // Offsets tracked but not yet complete, over all partitions (O(window)).
  size_t pending() const;

 private:
  struct Entry {
    int64_t offset;
    bool done;
  };
  struct PartitionState {
    std::deque<Entry> window;  // tracked, in offset order; front is not done
    int64_t watermark = -1;    // next_offset up to which all are done; -1 none
    int64_t committed = -1;    // last next_offset reported committed
    int64_t first_tracked = -1;
    std::deque<int64_t> skips;  // ascending
  };
  static void advance(PartitionState& state);
  static CommitPosition position_of(int32_t partition, const PartitionState& state);

  std::map<int32_t, PartitionState> partitions_;
};

}  // namespace sluice::engine
