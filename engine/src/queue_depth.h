// Queue depth from broker offsets, never from client statistics: how many
// records of a topic a consumer group has not committed yet, and how many a
// topic holds. Used by the Inspector (status, exporter, demo); the lag
// monitor can use the same arithmetic.
//
// Blocking: one ListOffsets round trip per partition and one OffsetFetch per
// topic, each bounded by `timeout`. Call from one thread per handle.
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

Result<Watermarks> query_watermarks(rd_kafka_t* rk, const std::string& topic,
                                    int32_t partition,
                                    std::chrono::milliseconds timeout);

// Sum of partition_depth over partitions [0, partitions) of `topic`, with the
// offsets committed by the group of `group_consumer`: a consumer handle whose
// group.id is that group. It need not (and should not) subscribe: committed
// offsets are fetched from the group coordinator without joining the group.
// `circuit_until`, when given, gets the latest "circuit open until" any
// partition's commit metadata states (unix ms; 0: none; done_offsets.h).
Result<int64_t> uncommitted_records(rd_kafka_t* group_consumer,
                                    const std::string& topic, int partitions,
                                    std::chrono::milliseconds timeout,
                                    int64_t* circuit_until = nullptr);

// Sum of high - low over the partitions of `topic`: records it holds.
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

Result<int64_t> stored_records(rd_kafka_t* rk, const std::string& topic,
                               int partitions, std::chrono::milliseconds timeout);

}  // namespace sluice::engine
