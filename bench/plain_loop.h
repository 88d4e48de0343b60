// The baseline: a plain librdkafka consume-produce loop, no Sluice inside.
//
// One consumer-group member on `input_topic` and one producer: each consumed
// record is produced to `output_topic` with the same key, value and headers
// (bytes copied, nothing decoded). Consumed positions are committed
// asynchronously every `commit_interval` and synchronously at the end. It uses
// Sluice's client settings (bench_kafka.h). run_plain_loop() blocks until
// `stop` is set, then flushes the producer, commits and leaves the group; it
// fails on the first consume, produce, delivery or commit error.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "bench_kafka.h"
#include "sluice/status.h"

namespace sluice::bench {

struct PlainLoopOptions {
  std::string brokers;
  std::string group;
  std::string input_topic;
  std::string output_topic;
  std::chrono::milliseconds commit_interval{1000};
  std::chrono::milliseconds shutdown_deadline{30000};
  Settings consumer_properties;  // on top of the shared consumer settings
};

Status run_plain_loop(const PlainLoopOptions& options, const std::atomic<bool>& stop);

}  // namespace sluice::bench
