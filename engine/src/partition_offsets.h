// PartitionOffsets: which input offsets of one partition are safe to commit.
//
// Tasks finish out of order (different keys run in parallel), but a commit
// says "everything before this offset is done". So each partition remembers
// the offsets handed out since its start, marks each complete when every
// record it caused is acknowledged, and its committable position is the
// lowest offset not yet complete.
//
// The start is never guessed: it is the partition's committed position read
// from the broker, or the target of a seek, or (only for a partition with no
// commit at all) the first offset fetched. Nothing below the start and
// nothing already tracked is tracked again: a re-delivered offset is stale,
// never a reason to restart tracking, so a commit never covers an offset
// whose work was not seen done. Gaps between fetched offsets (compaction,
// transaction markers) are fine. Single-threaded: the worker loop owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace sluice::engine {

struct OffsetRange {
  int64_t first;
  int64_t last;  // inclusive
  bool operator==(const OffsetRange&) const = default;
};

class PartitionOffsets {
 public:
  // `start`: the committed position (everything below it is done); `skips`:
  // ascending ranges at or above it, done by the previous owner.
  explicit PartitionOffsets(int64_t start, std::vector<OffsetRange> skips = {});
  // A partition nobody ever committed: its start is the first offset fetched,
  // wherever auto.offset.reset put the fetch.
  static PartitionOffsets from_first_fetch();

  enum class Intake {
    kTrack,  // new: tracked now, to be completed when its work is done
    kSkip,   // done by the previous owner: tracked as already complete
    kStale,  // below the start or already tracked: drop it
  };
  Intake take(int64_t offset);
  // Marks a tracked offset done. Unknown or already done offsets are ignored.
  void complete(int64_t offset);
  // The consumer's position moved to `position` past offsets it never handed
  // over (transaction markers; under read_committed, aborted transactions'
  // records): with nothing tracked, everything below it is done. Ignored
  // while offsets are tracked, or for a position not past next_fetch().
  void pass_to(int64_t position);

  bool started() const { return start_.has_value(); }
  // The committable position: everything below it is done. Only when started().
  int64_t position() const { return watermark_; }
  // Where fetching goes on: one past the last offset taken. Only when started().
  int64_t next_fetch() const { return next_; }
  // Completed offsets above position(), and skips not yet reached, as ranges:
  // the next owner skips them (done_offsets.h).
  std::vector<OffsetRange> done_above() const;
  // Offsets tracked at or above position(), done or not: what the window holds.
  size_t window() const { return window_.size(); }
  // Offsets tracked and not yet done.
  size_t pending() const { return pending_; }
  // At least done_above().size(), kept without walking the window.
  size_t done_ranges_bound() const { return done_runs_ + skips_.size(); }
  // Where tracking began: the committed position it was made from, or the
  // first offset fetched. Only when started().
  int64_t start() const { return *start_; }

  // Whether position() moved since the last mark_committed().
  bool moved() const { return started() && watermark_ > committed_; }
  // Whether what a commit says (position() and done_above()) changed since
  // the last mark_committed(): an offset done above a position that stayed
  // put must be committed too (exactly_once: with the outputs of its task).
  bool changed() const { return moved() || (started() && done_changed_); }
  void mark_committed(int64_t position);
  void forget_commit() { committed_ = -1; }

  // For a rewind: a fresh tracker starting at position(), skipping what was done above it.
  PartitionOffsets rewound() const;

 private:
  PartitionOffsets() = default;
  struct Entry {
    int64_t offset;
    bool done;
  };
  void advance();
  bool take_skip(int64_t offset);

  std::optional<int64_t> start_;
  int64_t watermark_ = -1;  // position(): all offsets below it are done
  int64_t next_ = -1;       // one past the last offset taken
  int64_t committed_ = -1;
  size_t pending_ = 0;
  size_t done_runs_ = 0;  // runs of done entries in window_
  bool done_changed_ = false;
  std::deque<Entry> window_;       // taken offsets >= watermark_, ascending; front not done
  std::deque<OffsetRange> skips_;  // ascending, not yet reached
};

}  // namespace sluice::engine
