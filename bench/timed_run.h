// timed_run(): one timed run of one variant (plain loop or Sluice stage).
//
// The variant runs on its own thread until told to stop. The clock starts
// just before that thread starts (its first act is to create its Kafka
// clients) and stops when the output topic's high watermarks, summed over
// partitions and polled every `poll_interval` from the calling thread, have
// grown by `records`: the broker holds every output. The stop condition is
// the same for every variant, so neither is timed by its own account. After
// the clock stops, the variant is stopped and joined (shutdown is not
// timed), and the output is counted again to report records beyond
// `records` (duplicates). Blocking; call from one thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "sluice/status.h"

namespace sluice::bench {

struct TimedRunOptions {
  std::string output_topic;
  int partitions = 1;
  int64_t records = 0;  // new output records that end the run
  std::chrono::milliseconds poll_interval{20};
  std::chrono::milliseconds timeout{300000};
};

struct RunTiming {
  double seconds = 0;               // clients created -> all output on the broker
  double first_output_seconds = 0;  // clients created -> first output visible
  int64_t extra_records = 0;        // output beyond `records` once stopped
  double cpu_seconds = 0;           // this process (all threads) while timed
  double loop_cpu_seconds = 0;      // the variant's own thread (its loop) while timed
  double records_per_second(int64_t records) const { return records / seconds; }
};

// Runs until `stop` is set; any error ends the run and fails it.
using Runner = std::function<Status(const std::atomic<bool>& stop)>;

// `watcher` is a handle for watermark queries (query_settings()).
Result<RunTiming> timed_run(rd_kafka_t* watcher, const TimedRunOptions& options,
                            const Runner& runner);

}  // namespace sluice::bench
