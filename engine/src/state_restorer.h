// Brings partitions' local state (StateStore) up to the end of the stage's
// changelog, <p>.<stage>.changelog, whose partition N holds the writes of
// input partition N (key: the stored key, state_keys.h; value: the value,
// or none for a delete).
//
// One consumer serves every restore of a worker, outside any group (it
// assigns partitions itself); it commits only to tell how far its restores
// are (restore_progress.h: report()). The worker loop calls
// poll() between its other phases with no wait, so partitions that are not
// restoring keep running meanwhile. A restore reads from the offset
// StateStore::open_partition gave up to the end offset the changelog had
// when the restore began; under read_committed that is the last stable
// offset, so records of open or aborted transactions never reach the state.
// It finishes at that offset, or at partition EOF (a changelog that ends in
// transaction markers has no record there to see). One thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kafka_client.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"
#include "state_store.h"

namespace sluice::engine {

class StateRestorer {
 public:
  // kTransient when the broker cannot be reached within
  // kafka.connect_timeout.
  // `progress_group`: where report() commits (restore_progress.h).
  static Result<std::unique_ptr<StateRestorer>> create(const KafkaOptions& kafka,
                                                       std::string changelog_topic,
                                                       bool read_committed,
                                                       const std::string& progress_group);

  // Starts restoring `partition` from `from`: asks for the changelog
  // partition's end offset (blocking, bounded by connect_timeout), then
  // assigns it. A partition with nothing to read finishes at the next poll.
  Status begin(int32_t partition, int64_t from);

  // Stops restoring `partition` (revoked before it finished): its state is
  // not complete, so the caller must not checkpoint it.
  Status cancel(int32_t partition);

  // The state of `partition` now reflects the changelog up to `offset`
  // (the next offset to read: where a restore from a checkpoint starts).
  struct Finished {
    int32_t partition;
    int64_t offset;
  };

  // Applies what the consumer has fetched, waiting up to `wait_ms` for it
  // (0 from the worker loop): one write to `store` per partition and call.
  // Returns the partitions whose restore finished in this call.
  Result<std::vector<Finished>> poll(StateStore& store, int wait_ms);

  bool restoring(int32_t partition) const { return restores_.count(partition) > 0; }
  // No restore left to read or to report.
  bool idle() const { return restores_.empty() && finished_.empty(); }
  // Records still to read, summed over the partitions restoring
  // (sluice_state_restore_lag).
  int64_t lag() const;
  // Records applied since creation (sluice_state_restore_records_total).
  uint64_t records_restored() const { return records_restored_; }

  // Commits (asynchronously) the position of every restore still running
  // and of those in `finished`, marked restoring or restored, for `sluice
  // status`. A failed commit only leaves status behind: it is not checked.
  void report(const std::vector<Finished>& finished);

 private:
  struct Restore {
    int64_t next = 0;  // the next offset to read
    int64_t end = 0;   // the end offset when the restore began
  };

  StateRestorer(KafkaOptions kafka, std::string topic, KafkaHandle consumer);
  Status assign(int32_t partition, int64_t from, bool add);

  KafkaOptions kafka_;
  std::string topic_;
  KafkaHandle consumer_;
  KafkaQueue queue_;
  std::map<int32_t, Restore> restores_;
  std::vector<Finished> finished_;  // found finished outside poll (nothing to read)
  uint64_t records_restored_ = 0;
};

}  // namespace sluice::engine
