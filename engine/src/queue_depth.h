// The arithmetic of queue depth (the LagMonitor reads the offsets), and how
// far a stateful stage's restores are. restore_progress is blocking: one
// OffsetFetch, bounded by `timeout`. Call from one thread per handle.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "sluice/status.h"

namespace sluice::engine {

struct Watermarks {
  int64_t low = 0;   // offset of the oldest record still stored
  int64_t high = 0;  // offset the next record will get
};

// Records of a partition after `next_offset` (what the group committed:
// last processed + 1), or after `low` when the group committed nothing
// (next_offset < 0) or committed offsets that retention already deleted.
int64_t partition_depth(Watermarks marks, int64_t next_offset);

// A stateful stage's restores as its workers report them to
// `restore_group_consumer`'s group (restore_progress.h): changelog
// partitions restoring now, and the records they have left.
struct RestoreProgress {
  int partitions = 0;
  int64_t records_left = 0;
};
Result<RestoreProgress> restore_progress(rd_kafka_t* restore_group_consumer,
                                         const std::string& changelog_topic, int partitions,
                                         std::chrono::milliseconds timeout);

}  // namespace sluice::engine
