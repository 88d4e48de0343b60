// TopicSnapshot: reads a topic from its beginning up to the end offsets it
// had when the snapshot opened, then says it is done (`sluice dlq`: the dead
// letters and the replay ledger as they are now; records written meanwhile
// are not waited for).
//
// Like TopicReader it assigns every partition itself, outside any consumer
// group, and never commits. open() fails if the broker is unreachable
// (kTransient) or the topic does not exist (kNotFound "topic NAME does not
// exist on HOST:PORT"). next() returns records partition by partition as
// the broker hands them out, in offset order within a partition, and nullopt
// once every partition reached its end offset; it fails (kTransient) when
// the broker sends nothing for `stall` while records are still due. One
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "envelope.pb.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice {

struct SnapshotRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_unix_ms = 0;  // the record's Kafka timestamp
  std::string key;
  std::string value;
  bool tombstone = false;  // the value is null (a changelog's delete), not empty
};

// kAsConfigured: kafka.properties' isolation.level, else librdkafka's
// default (read_committed). kReadCommitted whatever they say (`sluice
// verify`): the end offsets are then the last stable offsets, and records of
// open or aborted transactions are never returned.
enum class Isolation { kAsConfigured, kReadCommitted };

class TopicSnapshot {
 public:
  static Result<std::unique_ptr<TopicSnapshot>> open(
      const KafkaOptions& kafka, const std::string& topic,
      Isolation isolation = Isolation::kAsConfigured);
  virtual ~TopicSnapshot() = default;
  // The next record below the end offsets, or nullopt when there is none left.
  virtual Result<std::optional<SnapshotRecord>> next(
      std::chrono::milliseconds stall = std::chrono::seconds(30)) = 0;
};

// False when `bytes` are not a Sluice envelope (foreign or corrupt): the
// same test the worker applies to its input.
bool decode_envelope(std::string_view bytes, v1::Envelope* envelope);

}  // namespace sluice
