// exactly_once: the worker's side of transactions (the sink's is
// output_sink_transactions.cc).
//
// A transaction holds every record produced since the last one ended
// (outputs, retry records, dead letters) and the input offsets their tasks
// made committable, with the offsets done above each (done_offsets.h). It
// commits every transaction_interval, sooner at max_transaction_records, and
// before a revocation or a stop. Tasks still running carry over: their
// records go into the next one. A commit first waits for every record of the
// transaction to be acknowledged, so the tasks those finish are counted done
// in it. When a transaction aborts (or its producer must be rebuilt), every
// partition goes back to its committed offset as the broker has it, and the
// tasks since run again: read_committed readers never see their records.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "done_offsets.h"
#include "worker_impl.h"

namespace sluice::engine {
namespace {

// Whether a commit carries every offset done above its position: one left
// out would run again after a crash, its outputs committed twice.
bool done_offsets_fit(const CommitRequest& request) {
  return encode_done_offsets(request.position, request.done_above,
                             std::numeric_limits<size_t>::max(), request.circuit_until_unix_ms)
             .size() <= kMaxDoneOffsetsBytes;
}

}  // namespace

// Periodic: first the sink holds back new records and the loop goes on
// (consuming, running tasks) while the transaction's records are
// acknowledged; then the commit itself, in the loop. Measured: waiting for
// those acks was two thirds of the time the loop spent blocked in commits
// (bench/README.md, transactions_benchmark).
void WorkerImpl::transaction_phase(bool all) {
  auto now = Clock::now();
  if (!holding_since_) {
    if (!sink_->in_transaction() && positions(all).empty()) {
      next_commit_ = now + options_.transaction_interval;
      return;
    }
    holding_since_ = now;
    sink_->hold(true);
  }
  if (sink_->in_flight() > 0 && !transaction_doomed_ && !sink_->needs_rebuild()) {
    if (now - *holding_since_ < kTransactionDeadline) return;
    doom_unacknowledged(
        fmt::format("within {} s",
                    std::chrono::duration_cast<std::chrono::seconds>(kTransactionDeadline).count()));
  }
  (void)commit_transaction(all, true, now + kTransactionDeadline);
  release_hold();
}

void WorkerImpl::doom_unacknowledged(std::string_view when) {
  spdlog::warn("stage {}: the records of the open transaction were not all acknowledged {}; "
               "aborting it", spec_->name, when);
  transaction_doomed_ = true;
}

void WorkerImpl::release_hold() {
  holding_since_.reset();
  sink_->hold(false);
}

// Returns true when the transaction committed (or there was nothing to
// commit); otherwise every partition is rewinding (or will be, once the
// producer is rebuilt: recover_phase), except when `may_wait` and the
// transaction stays open for a later try.
bool WorkerImpl::commit_transaction(bool all, bool may_wait, Clock::time_point deadline) {
  next_commit_ = Clock::now() + options_.transaction_interval;
  if (sink_->needs_rebuild()) return false;
  if (!transaction_doomed_ && !sink_->flush(deadline)) {
    doom_unacknowledged("in time");
  }
  if (transaction_doomed_) {
    abort_and_rewind(deadline);
    return false;
  }
  std::vector<CommitRequest> requests = positions(all);
  if (requests.empty() && !sink_->in_transaction()) return true;
  // Tasks finished far out of order (the intake pauses before this, but
  // tasks already taken in go on finishing): wait for the gaps to fill,
  // while the transaction is young, else redo it.
  if (!std::all_of(requests.begin(), requests.end(), done_offsets_fit)) {
    if (may_wait && sink_->transaction_age() < kTransactionDeadline) return false;
    spdlog::warn("stage {}: the offsets done out of order no longer fit a commit's metadata; "
                 "aborting the transaction", spec_->name);
    abort_and_rewind(deadline);
    return false;
  }
  switch (sink_->commit_transaction(requests, deadline)) {
    case TransactionEnd::kCommitted:
      written_since_commit_.clear();
      for (const CommitRequest& request : requests) {
        find_partition(request.topic->c_str(), request.partition)
            ->offsets.mark_committed(request.position);
      }
      return true;
    case TransactionEnd::kAborted:
      rewind_every_partition();
      return false;
    case TransactionEnd::kRebuild:
      rewind_all_ = true;
      return false;
  }
  return false;
}

// A record of the transaction failed (or was never acknowledged): it can
// only abort.
void WorkerImpl::abort_and_rewind(Clock::time_point deadline) {
  transaction_doomed_ = false;
  if (sink_->abort_transaction(deadline) == TransactionEnd::kRebuild) rewind_all_ = true;
  rewind_every_partition();
}

void WorkerImpl::rewind_every_partition() {
  for (auto& [where, partition] : partitions_) start_rewind(partition);
}

}  // namespace sluice::engine
