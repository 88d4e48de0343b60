// The exactly_once side of the OutputSink: a transactional producer's
// transactions. Every librdkafka transactional call blocks; each is bounded
// by the caller's deadline, and one still failing retriably at the deadline
// leaves the producer to be rebuilt (init_transactions on the new one
// resolves whatever the broker holds of the old one).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "kafka_errors.h"
#include "output_sink.h"

namespace sluice::engine {
namespace {

// A retriable transactional call is repeated after this, so that an error
// returned at once (no coordinator yet) does not spin.
constexpr auto kRetryPause = std::chrono::milliseconds(20);
// init_transactions on a fresh cluster waits for the transaction-state topic
// to be created, and for the coordinator to abort an earlier producer's
// open transaction: longer than a connect check.
constexpr auto kMinInitTimeout = std::chrono::seconds(30);
// init_transactions is called in slices of this, and resumes where the last
// slice stopped: between slices a stop is noticed.
constexpr int kInitSliceMs = 500;
// What an abort after a failed commit gets at least (an abort is one EndTxn).
constexpr auto kMinAbortTime = std::chrono::seconds(2);

int ms_until(OutputSink::Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - OutputSink::Clock::now());
  return static_cast<int>(std::max<int64_t>(left.count(), 0));
}

}  // namespace

Status OutputSink::init_transactions() {
  auto deadline = Clock::now() + std::max<Clock::duration>(kafka_.connect_timeout, kMinInitTimeout);
  while (true) {
    KafkaError error(
        rd_kafka_init_transactions(producer_.get(), std::min(ms_until(deadline), kInitSliceMs)));
    if (!error) return Status::ok();
    if (events_.stopping && events_.stopping()) {
      return transient_error("transactions of " + transactional_id_ +
                             " not started: the worker is stopping");
    }
    if (rd_kafka_error_is_retriable(error.get()) && Clock::now() < deadline) {
      // A slice that timed out resumes at once; an error returned at once waits.
      if (rd_kafka_error_code(error.get()) != RD_KAFKA_RESP_ERR__TIMED_OUT) {
        std::this_thread::sleep_for(kRetryPause);
      }
      continue;
    }
    Status s = kafka_status(error.get(), "start transactions as " + transactional_id_ + " on " +
                                             kafka_.bootstrap);
    return Status(s.code() == StatusCode::kFatal ? StatusCode::kFatal : StatusCode::kTransient,
                  s.message());
  }
}

bool OutputSink::ensure_transaction() {
  if (in_transaction_) return true;
  KafkaError error(rd_kafka_begin_transaction(producer_.get()));
  if (error) {
    spdlog::error("stage {}: {}", stage_, kafka_status(error.get(), "begin a transaction").message());
    needs_rebuild_ = true;
    return false;
  }
  in_transaction_ = true;
  transaction_records_ = 0;
  transaction_began_ = Clock::now();
  return true;
}

bool OutputSink::flush(Clock::time_point deadline) {
  while (in_flight() > 0 || (!backlog_.empty() && !holding_)) {
    int left = ms_until(deadline);
    if (left == 0 || needs_rebuild_) return false;
    poll(std::min(left, 10));
  }
  return true;
}

TransactionEnd OutputSink::commit_transaction(const std::vector<CommitRequest>& positions,
                                              Clock::time_point deadline) {
  if (needs_rebuild_ || !ensure_transaction()) return TransactionEnd::kRebuild;
  KafkaError error;
  const char* what = "add offsets to the transaction";
  if (!positions.empty()) {
    if (consumer_ == nullptr) return abort_transaction(deadline);
    PartitionList offsets = commit_list(positions);
    GroupMetadata group(rd_kafka_consumer_group_metadata(consumer_));
    error = call_until(deadline, [&](int ms) {
      return rd_kafka_send_offsets_to_transaction(producer_.get(), offsets.get(), group.get(), ms);
    });
  }
  if (!error) {
    what = "commit the transaction";
    error = call_until(deadline,
                       [&](int ms) { return rd_kafka_commit_transaction(producer_.get(), ms); });
  }
  if (!error) {
    in_transaction_ = false;
    transaction_records_ = 0;
    return TransactionEnd::kCommitted;
  }
  std::string why = kafka_status(error.get(), what).message();
  if (rd_kafka_error_txn_requires_abort(error.get())) {
    spdlog::warn("stage {}: {}; aborting it: its tasks run again", stage_, why);
    // A call retried to its deadline leaves the abort no time, and a
    // producer rebuilt for that costs an init_transactions (16 s measured
    // after a node's restart, in the soak): the abort gets a little more.
    return abort_transaction(std::max(deadline, Clock::now() + kMinAbortTime));
  }
  return give_up(why);
}

TransactionEnd OutputSink::abort_transaction(Clock::time_point deadline) {
  // Records held back for the next transaction belong to tasks that run
  // again: the caller rewinds every partition.
  awaiting_acks_ -= backlog_.size();
  backlog_.clear();
  if (!in_transaction_) return TransactionEnd::kAborted;
  // A call that gave up (a commit timed out) is still in progress inside
  // librdkafka: every other call conflicts with it until the rebuild.
  if (needs_rebuild_) return TransactionEnd::kRebuild;
  aborting_ = true;
  KafkaError error = call_until(
      deadline, [&](int ms) { return rd_kafka_abort_transaction(producer_.get(), ms); });
  aborting_ = false;
  if (error) return give_up(kafka_status(error.get(), "abort the transaction").message());
  in_transaction_ = false;
  transaction_records_ = 0;
  return TransactionEnd::kAborted;
}

// Repeats `call` while it fails retriably (a timeout, no coordinator yet),
// until the deadline; returns its last error, null once it succeeded.
KafkaError OutputSink::call_until(Clock::time_point deadline,
                                  const std::function<rd_kafka_error_t*(int timeout_ms)>& call) {
  while (true) {
    KafkaError error(call(ms_until(deadline)));
    if (!error || !rd_kafka_error_is_retriable(error.get()) || rd_kafka_error_is_fatal(error.get()) ||
        Clock::now() >= deadline) {
      return error;
    }
    std::this_thread::sleep_for(kRetryPause);
  }
}

TransactionEnd OutputSink::give_up(const std::string& why) {
  spdlog::error("stage {}: {}; the producer is rebuilt and the work since the last committed "
                "transaction runs again", stage_, why);
  needs_rebuild_ = true;
  return TransactionEnd::kRebuild;
}

}  // namespace sluice::engine
