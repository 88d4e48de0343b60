// ChangelogCache: what one input partition's tasks wrote to their state and
// the changelog does not have yet; Kafka Streams' record cache.
//
// Under at_least_once a stateful stage applies a task's writes to the local
// store at once, but sends them to <p>.<stage>.changelog only at the next
// flush (each commit, or sooner at a bound: worker_state.cc), one record per
// key with its latest value: a key written by many tasks between two
// flushes costs one changelog record, not one per task. A task's input
// offset may be committed only once its writes are on the broker, so a task
// whose outputs are acknowledged leaves its offset here (its record is
// freed) until the first flush taken after that is acknowledged in full.
// Flushes end in the order they were taken: a flush's offsets are released
// only when every earlier flush's are. Single-threaded: the worker loop's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::engine {

class ChangelogCache {
 public:
  struct Write {
    std::string key;
    std::optional<std::string> value;  // nullopt: deleted (a tombstone)
  };

  // A task's write: replaces what the key had since the last take().
  void put(std::string_view key, const std::optional<std::string>& value);
  // A task whose outputs are acknowledged: `offset` is done once the next
  // flush taken is acknowledged (and every one before it).
  void defer(int64_t offset) { deferred_.push_back(offset); }

  // Writes or deferred offsets since the last take().
  bool has_unflushed() const { return !writes_.empty() || !deferred_.empty(); }
  size_t unflushed_bytes() const { return bytes_; }
  size_t deferred() const { return deferred_.size(); }
  // Nothing unflushed and no flush in flight: the changelog has every write.
  bool idle() const { return !has_unflushed() && in_flight_.empty(); }

  // Starts flush `id` of the writes since the last take(), one per key (to
  // be produced: `pending` records, the writes' count), carrying the
  // deferred offsets. `id` names it in flushed().
  std::vector<Write> take(uint64_t id);
  // Every record of flush `id` was acknowledged. Returns the offsets now
  // done: those of the flushes ended, oldest first, up to the first still
  // in flight. An id not in flight (forgotten by clear()) releases nothing.
  std::vector<int64_t> flushed(uint64_t id);
  // A rewind: forgets the writes, the deferred offsets and the flushes in
  // flight (whose acknowledgements then release nothing).
  void clear();

 private:
  struct InFlight {
    uint64_t id;
    bool acknowledged;
    std::vector<int64_t> offsets;
  };

  std::unordered_map<std::string, std::optional<std::string>> writes_;
  size_t bytes_ = 0;
  std::vector<int64_t> deferred_;
  std::deque<InFlight> in_flight_;  // in the order taken
};

}  // namespace sluice::engine
