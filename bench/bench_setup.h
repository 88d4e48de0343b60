// Setting up a benchmark run: pipeline specs, topics, and the preloaded input.
//
// Each benchmark invocation uses a fresh random pipeline name, so runs never
// see each other's data. Every Sluice run gets its own one-stage spec whose
// only stage (builtin passthrough: the spec's kind; failure_benchmark runs its
// own stage object in that place) has a run-specific name: the stage name
// picks the consumer group (sluice.<p>.<stage>), so each run starts with a
// fresh group on the same <p>.intake. The plain loop writes to the done topic
// of a second pipeline, <p>-plain. All functions block; call from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice::bench {

struct SetupOptions {
  std::string brokers;
  std::string pipeline;  // random per invocation
  int partitions = 6;
  int concurrency = 64;
  // Extra librdkafka properties (kafka.properties of the spec): Sluice
  // passes them to every client it makes. Empty in the standard runs.
  std::map<std::string, std::string> properties;
  // The stage's `retry:` as a YAML flow map ("{backoff: 50ms}"); empty: the
  // defaults.
  std::string retry;
};

// "bench-" and 8 random hex digits: a valid, unused pipeline name.
std::string random_pipeline_name();

// What the one stage runs: a builtin, stateful or not (state: true also
// sets retry: {mode: in_place}, which a stateful stage needs).
struct StageShape {
  std::string builtin = "passthrough";
  bool state = false;
};

// The one-stage spec (stage `stage`, of `shape`), validated by
// topics::parse_spec, with its topics created on the broker.
Result<topics::PipelineSpec> make_pipeline(const SetupOptions& options, const std::string& pipeline,
                                           const std::string& stage,
                                           const StageShape& shape = {});

struct PreloadOptions {
  int64_t records = 200000;
  size_t payload_bytes = 150;  // JSON payload size
  int keys = 4096;             // distinct record keys
};

// Submits the records with JobSubmitter and waits until the broker has them.
Status preload(const topics::PipelineSpec& spec, const PreloadOptions& options);

}  // namespace sluice::bench
