// BenchSession: what every benchmark invocation shares. open() picks a
// fresh pipeline and connects a watermark watcher, preload() puts --records
// envelopes into <p>.intake once; each run then gets the pipeline's spec
// with a run-specific stage name (a fresh consumer group on the same
// intake), is timed until its output topic holds every record, and is
// recorded in a Series. Blocking; call from one thread.
#pragma once

#include <string>

#include "bench_flags.h"
#include "bench_kafka.h"
#include "bench_report.h"
#include "bench_setup.h"
#include "sluice/topics/spec.h"
#include "timed_run.h"

namespace sluice::bench {

class BenchSession {
 public:
  explicit BenchSession(const Flags& flags) : flags_(flags) {}
  // A fresh pipeline name and the watermark watcher; `retry`: the stage's
  // retry: map (SetupOptions::retry).
  Status open(const std::string& retry);
  // Makes the pipeline of stage `first_stage` and preloads its intake. Make
  // any other topic before this: a topic's leader may be unknown for a
  // moment after its creation, and the preload gives it that moment before
  // the first run asks for its watermarks.
  Status preload(const std::string& first_stage);
  // The one-stage spec of stage `stage`, its topics created (the preloaded
  // spec for the first stage: no second round of topic creation).
  Result<topics::PipelineSpec> stage_pipeline(const std::string& stage) const;
  // Times `runner` until `output_topic` holds --records new records, prints
  // the run's line and, past --warmup, adds it to `series`.
  Status timed(Series& series, int run, const std::string& output_topic, const Runner& runner);

  const SetupOptions& setup_options() const { return setup_; }
  const Settings& consumer_properties() const { return consumer_properties_; }
  rd_kafka_t* watcher() const { return watcher_.get(); }

 private:
  const Flags& flags_;
  Settings consumer_properties_;
  SetupOptions setup_;
  topics::PipelineSpec first_spec_;
  Handle watcher_;
};

// A benchmark made of alternating pairs of timed runs.
class PairedBenchmark {
 public:
  virtual ~PairedBenchmark() = default;
  virtual Status setup() = 0;
  // Pair number `run` (1-based); pairs up to --warmup are run but not reported.
  virtual Status run_pair(int run) = 0;
  virtual void report() const = 0;
};

// What every benchmark's main() does once its flags are parsed: setup,
// --warmup + --runs pairs, the report. Returns the exit code: 0, or 1 (2 for
// bad usage) after "<program>: <error>" on stderr.
int run_paired(const char* program, const Flags& flags, PairedBenchmark& benchmark);

}  // namespace sluice::bench
