// committed_run(): one timed run of a pipeline, timed by what a
// read_committed consumer of <p>.done reads, then its end-to-end latency.
//
// timed_run.h stops the clock on output watermarks; under exactly_once those
// count transaction markers and records of transactions not yet committed,
// so here a read_committed consumer, assigned to every partition of the done
// topic from its end at the start, counts records instead (the same for both
// guarantees: at_least_once records are readable as soon as written).
// 1. Throughput: the clock starts just before the runner's thread starts (it
//    creates the workers) and stops when the backlog has been read: as many
//    records as <p>.intake held at the start, i.e. every stage passed them on
//    and committed. That is `records` preloaded, plus the paced jobs of the
//    earlier runs (each run's fresh consumer groups read the intake from its
//    start); the time is scaled to `records` records, so that every run
//    reports the rate of its whole backlog as a time for `records`.
// 2. Latency: the runner keeps going; `paced_records` fresh jobs are then
//    submitted at `paced_rate` a second (a rate the pipeline keeps up with),
//    and for each, the time from its submitted_at_unix_ms to the moment the
//    consumer read it from done is recorded (milliseconds, wall clock).
// Then the runner is stopped and joined (not timed). Blocking.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/submitter.h"
#include "sluice/topics/spec.h"
#include "timed_run.h"
#include "transaction_probe.h"

namespace sluice::bench {

struct CommittedRunOptions {
  std::string brokers;
  int partitions = 1;
  int64_t records = 0;         // preloaded; the times are for this many
  int64_t paced_records = 0;   // the latency phase's jobs
  double paced_rate = 5000;    // a second
  int keys = 4096;
  size_t payload_bytes = 150;
  std::chrono::milliseconds timeout{300000};
};

struct CommittedRun {
  int64_t backlog = 0;             // records in <p>.intake at the start
  double seconds = 0;              // to read all of it (not scaled)
  RunTiming timing;                // of the backlog (1.), scaled to `records`
  ProbeCounts probe;               // the worker loops' transactional calls during 1.
  std::vector<double> latency_ms;  // of the paced jobs (2.), in arrival order
};

// Threads the runner starts to run worker loops register here (from the
// thread itself), so that their CPU is counted as the loops'.
void register_loop_thread();

// `submitter` puts the paced jobs on spec's intake (made before the run, so
// that connecting is not timed); `watcher` answers watermark queries.
Result<CommittedRun> committed_run(const topics::PipelineSpec& spec, rd_kafka_t* watcher,
                                   JobSubmitter& submitter, const CommittedRunOptions& options,
                                   const Runner& runner);

}  // namespace sluice::bench
