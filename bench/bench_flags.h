// Command-line flags of the benchmarks, parsed with CLI11.
//
// parse_flags() fills Flags and returns 0, or the process exit code to use
// at once: 2 for bad usage (CLI11 printed why), -1 after --help (exit 0).
// The workload and tuning flags are common to every benchmark; each one adds
// its own (passthrough: --only; failure: --fail-percent, --retry-mode,
// --backoff, --only) through `add_own_options`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench_kafka.h"
#include "sluice/status.h"
#include "timed_run.h"

namespace CLI {
class App;
}

namespace sluice::bench {

struct Flags {
  std::string brokers;
  int64_t records = 200000;
  int partitions = 6;
  int runs = 3;
  int warmup = 1;  // untimed pairs before the timed ones
  int concurrency = 64;
  size_t payload_bytes = 150;
  int keys = 4096;
  int timeout_s = 300;
  size_t max_buffered_tasks = 10000;             // the spec's default
  std::vector<std::string> consumer_properties;  // NAME=VALUE, both variants
  // One variant only (profiling): "plain" or "sluice" (passthrough_benchmark),
  // "pass" or "fail" (failure_benchmark).
  std::string only;
  // failure_benchmark only
  int fail_percent = 5;              // of the jobs, fail attempt 1
  std::string retry_mode = "topic";  // retry.mode: topic or in_place
  int backoff_ms = 50;               // retry.backoff and retry.max_backoff
};

int parse_flags(int argc, char** argv, const std::string& description, Flags* flags,
                const std::function<void(CLI::App&)>& add_own_options);

// A timed run of --records records into `output_topic` (--partitions,
// --timeout).
TimedRunOptions timed_run_options(const Flags& flags, const std::string& output_topic);

// "NAME=VALUE" pairs; kUsage naming the first malformed one.
Result<Settings> parse_properties(const std::vector<std::string>& pairs);

}  // namespace sluice::bench
