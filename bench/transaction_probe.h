// TransactionProbe: counts and times the transactional librdkafka calls of
// the worker loops in this process, without touching the engine.
//
// transactions_benchmark links with `-Wl,--wrap=` for rd_kafka_poll,
// rd_kafka_begin/commit/abort_transaction and
// rd_kafka_send_offsets_to_transaction (bench/CMakeLists.txt): the engine's
// calls go through the wrappers in transaction_probe.cc, which time them and
// call the real functions. Only threads that called mark_worker_loop() are
// counted (the benchmark's JobSubmitter polls too). rd_kafka_poll is counted
// only when it may block (timeout > 0): in the worker loop that is
// OutputSink::flush(), the wait for every record of a transaction to be
// acknowledged before it commits (worker_transactions.cc); the loop's own
// polls pass 0.
#pragma once

#include <cstdint>

namespace sluice::bench {

struct ProbeCounts {
  int64_t begins = 0;
  int64_t commits = 0;  // rd_kafka_commit_transaction calls
  int64_t aborts = 0;
  int64_t send_offsets = 0;
  int64_t blocking_polls = 0;   // rd_kafka_poll with a timeout: the flush
  double commit_seconds = 0;    // wall time inside each call, summed over loops
  double send_offsets_seconds = 0;
  double flush_seconds = 0;
  double blocked_seconds() const { return commit_seconds + send_offsets_seconds + flush_seconds; }
};

// The calling thread is a worker loop: its calls count.
void mark_worker_loop();
void reset_probe();
ProbeCounts read_probe();

}  // namespace sluice::bench
