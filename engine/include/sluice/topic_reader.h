// TopicReader: reads a Sluice topic outside any consumer group (`sluice
// tail`, tests, the demo's verifier). Assigns every partition, from the
// beginning or from the end, and decodes each record's envelope. Foreign
// bytes are returned as records with decoded=false, never an error.
// create() fails if the broker is unreachable (kTransient) or the topic does
// not exist (kNotFound "topic NAME does not exist on HOST:PORT"). next()
// logs transient consumer errors (librdkafka reconnects by itself) and
// returns nullopt when `wait` passes without a record. One thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice {

struct ErrorEntry {
  std::string stage;
  uint32_t attempt = 0;
  std::string kind;
  std::string message;
  int64_t time_unix_ms = 0;
};

struct TopicRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_unix_ms = -1;  // the Kafka record's timestamp; -1: none
  std::string record_key;
  bool decoded = false;  // false: foreign bytes, only `payload` is set
  std::string job_id, task_id, parent_task_id, key;
  std::string source_stage, destination_stage;
  uint32_t attempt = 0;
  int64_t submitted_at_unix_ms = 0;
  int64_t not_before_unix_ms = 0;  // retry records
  int64_t deadline_unix_ms = 0;  // 0: none
  std::string content_type;
  std::string payload;
  std::map<std::string, std::string> headers;
  std::vector<ErrorEntry> errors;
  std::string origin_topic;  // dead letters
  int32_t origin_partition = -1;
  int64_t origin_offset = -1;
  std::map<std::string, std::string> record_headers;  // the Kafka record's own
};

class TopicReader {
 public:
  static Result<std::unique_ptr<TopicReader>> create(const KafkaOptions& kafka,
                                                     const std::string& topic,
                                                     bool from_beginning);
  virtual ~TopicReader() = default;
  // The next record, or nullopt when none arrived within `wait`.
  virtual Result<std::optional<TopicRecord>> next(std::chrono::milliseconds wait) = 0;
};

}  // namespace sluice
