// HeadTimestamps: the Kafka timestamp of the record at a given offset of
// each of some partitions: what the exporter reads at a stage group's
// committed offsets to tell how long the oldest waiting record has waited.
//
// One consumer that never joins a group (a throwaway group.id, no commits:
// topic_reader.cc) assigns the partitions at the offsets asked, takes the
// first record of each and unassigns. It fetches little: a partition's fetch
// is capped at 64 KiB (librdkafka grows it for a larger record) and its
// queue at 1 MiB, so a read costs about a fetch per broker, not a topic's
// backlog. A partition whose record is gone meanwhile (retention, a commit)
// gives the next one's timestamp: still the oldest that waits. One thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kafka_handles.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice::engine {

struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

class HeadTimestamps {
 public:
  using Key = std::pair<std::string, int32_t>;  // topic, partition
  static Result<std::unique_ptr<HeadTimestamps>> create(const KafkaOptions& kafka);
  explicit HeadTimestamps(KafkaHandle consumer) : consumer_(std::move(consumer)) {}

  // Unix ms per partition asked, for those whose record came within
  // `timeout`; fails only when the assignment does.
  Result<std::map<Key, int64_t>> read(const std::vector<PartitionOffset>& at,
                                      std::chrono::milliseconds timeout);

 private:
  KafkaHandle consumer_;
};

}  // namespace sluice::engine
