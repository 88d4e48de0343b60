// RecordSender: produces records that the CLI builds itself (`sluice dlq
// replay`: replayed envelopes and replay-ledger records) and tells which of
// them the broker acknowledged.
//
// One idempotent producer (acks=all). create() connects and checks that
// every topic in `topics` exists (kNotFound "topic NAME does not exist on
// HOST:PORT"), so that a send never makes a broker auto-create a topic.
// send() queues a record and returns its number (0, 1, ... in send order);
// it blocks only while librdkafka's local queue is full. flush() waits for
// every acknowledgement; each record is given up after message.timeout.ms
// (30 s unless kafka.properties says otherwise), so it ends in bounded time.
// Not thread-safe: one thread sends and flushes.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice {

struct OutgoingRecord {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;  // Kafka headers
};

struct FlushReport {
  std::vector<size_t> unacknowledged;  // numbers from send(), ascending
  Status first_error;                  // why the first of them failed; ok when all were acked
};

class RecordSender {
 public:
  static Result<std::unique_ptr<RecordSender>> create(const KafkaOptions& kafka,
                                                      const std::vector<std::string>& topics);
  virtual ~RecordSender() = default;

  virtual Result<size_t> send(const OutgoingRecord& record) = 0;
  // Waits up to `timeout` for the acknowledgements of everything sent so far.
  virtual FlushReport flush(std::chrono::milliseconds timeout) = 0;
};

}  // namespace sluice
