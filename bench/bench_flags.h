// Command-line flags of passthrough_benchmark, parsed with CLI11.
//
// parse_flags() fills Flags and returns 0, or the process exit code to use
// at once: 2 for bad usage (CLI11 printed why), -1 after --help (exit 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_kafka.h"
#include "sluice/status.h"

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
  size_t max_buffered_tasks = 10000;             // WorkerOptions' default
  std::string only;                              // "plain" or "sluice": one variant (profiling)
  std::vector<std::string> consumer_properties;  // NAME=VALUE, both variants
};

int parse_flags(int argc, char** argv, Flags* flags);

// "NAME=VALUE" pairs; kUsage naming the first malformed one.
Result<Settings> parse_properties(const std::vector<std::string>& pairs);

}  // namespace sluice::bench
