#include "transaction_probe.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>

namespace sluice::bench {
namespace {

thread_local bool worker_loop = false;

struct Counter {
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> nanoseconds{0};
  void reset() {
    calls = 0;
    nanoseconds = 0;
  }
  double seconds() const { return nanoseconds.load() / 1e9; }
};

Counter begins, commits, aborts, send_offsets, blocking_polls;

// Runs `call`, adding its wall time to `counter` when on a worker loop.
template <typename Call>
auto timed(Counter& counter, Call call) {
  if (!worker_loop) return call();
  auto start = std::chrono::steady_clock::now();
  auto result = call();
  counter.calls.fetch_add(1, std::memory_order_relaxed);
  counter.nanoseconds.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now() - start)
                                    .count(),
                                std::memory_order_relaxed);
  return result;
}

}  // namespace

void mark_worker_loop() { worker_loop = true; }

void reset_probe() {
  for (Counter* c : {&begins, &commits, &aborts, &send_offsets, &blocking_polls}) c->reset();
}

ProbeCounts read_probe() {
  ProbeCounts counts;
  counts.begins = begins.calls;
  counts.commits = commits.calls;
  counts.aborts = aborts.calls;
  counts.send_offsets = send_offsets.calls;
  counts.blocking_polls = blocking_polls.calls;
  counts.commit_seconds = commits.seconds();
  counts.send_offsets_seconds = send_offsets.seconds();
  counts.flush_seconds = blocking_polls.seconds();
  return counts;
}

}  // namespace sluice::bench

// The --wrap targets: the linker sends the engine's calls here, and the
// __real_ names to librdkafka.
extern "C" {
int __real_rd_kafka_poll(rd_kafka_t* rk, int timeout_ms);
rd_kafka_error_t* __real_rd_kafka_begin_transaction(rd_kafka_t* rk);
rd_kafka_error_t* __real_rd_kafka_commit_transaction(rd_kafka_t* rk, int timeout_ms);
rd_kafka_error_t* __real_rd_kafka_abort_transaction(rd_kafka_t* rk, int timeout_ms);
rd_kafka_error_t* __real_rd_kafka_send_offsets_to_transaction(
    rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* offsets,
    const rd_kafka_consumer_group_metadata_t* group, int timeout_ms);

int __wrap_rd_kafka_poll(rd_kafka_t* rk, int timeout_ms) {
  using namespace sluice::bench;
  if (timeout_ms == 0) return __real_rd_kafka_poll(rk, 0);
  return timed(blocking_polls, [&] { return __real_rd_kafka_poll(rk, timeout_ms); });
}

rd_kafka_error_t* __wrap_rd_kafka_begin_transaction(rd_kafka_t* rk) {
  using namespace sluice::bench;
  return timed(begins, [&] { return __real_rd_kafka_begin_transaction(rk); });
}

rd_kafka_error_t* __wrap_rd_kafka_commit_transaction(rd_kafka_t* rk, int timeout_ms) {
  using namespace sluice::bench;
  return timed(commits, [&] { return __real_rd_kafka_commit_transaction(rk, timeout_ms); });
}

rd_kafka_error_t* __wrap_rd_kafka_abort_transaction(rd_kafka_t* rk, int timeout_ms) {
  using namespace sluice::bench;
  return timed(aborts, [&] { return __real_rd_kafka_abort_transaction(rk, timeout_ms); });
}

rd_kafka_error_t* __wrap_rd_kafka_send_offsets_to_transaction(
    rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* offsets,
    const rd_kafka_consumer_group_metadata_t* group, int timeout_ms) {
  using namespace sluice::bench;
  return timed(send_offsets, [&] {
    return __real_rd_kafka_send_offsets_to_transaction(rk, offsets, group, timeout_ms);
  });
}
}
