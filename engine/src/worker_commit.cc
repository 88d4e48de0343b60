// Commits: input offsets whose every output the broker acknowledged, through
// the sink, each carrying the offsets done above it (done_offsets.h).
#include <spdlog/spdlog.h>

#include "task_codec.h"
#include "worker_impl.h"

namespace sluice::engine {

// Every partition with a known start, or only those whose position or done
// offsets changed.
std::vector<CommitRequest> WorkerImpl::positions(bool all) const {
  std::vector<CommitRequest> out;
  int64_t circuit_until = circuit_until_unix_ms();
  for (const auto& [where, partition] : partitions_) {
    if (!partition.offsets.started() || !(all || partition.offsets.changed())) continue;
    out.push_back({&consumed_topics_[where.topic], where.partition, partition.offsets.position(),
                   partition.offsets.done_above(), circuit_until});
  }
  return out;
}

// While the circuit is not closed, every commit says so until a while ahead
// (two cool-downs, at least 10 s), and a commit of every partition goes out
// at each interval to keep saying it: `sluice status` shows the circuit open
// for as long as that holds, and no longer once this worker is gone.
int64_t WorkerImpl::circuit_until_unix_ms() const {
  if (circuit_.state(Clock::now()) == CircuitState::kClosed) return 0;
  auto ahead = std::max<Clock::duration>(2 * spec_->circuit.cool_down, std::chrono::seconds(10));
  return now_unix_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(ahead).count();
}

// Sends a commit of positions(all). Each is marked committed before the
// result is known; a failed commit is forgotten in on_committed, so the next
// commit phase tries again.
void WorkerImpl::send_commit(bool all) {
  next_commit_ = Clock::now() + options_.commit_interval;
  std::vector<CommitRequest> requests = positions(all);
  for (const CommitRequest& request : requests) {
    PartitionContext* context = find_partition(request.topic->c_str(), request.partition);
    context->offsets.mark_committed(request.position);
  }
  sink_->commit(requests);
}

// Periodic, asynchronous: the loop goes on while the broker answers.
// exactly_once: the transaction commits, in the loop (worker_transactions.cc).
// A partition written by transactions ends with a marker, which takes an
// offset and is never handed to the worker; under read_committed, so do the
// records of aborted transactions. Committing only past the last record
// handed over left each such partition's queue depth above 0 for good: an
// aborted batch of thousands held a stage that gates on it (backpressure)
// shut, and nothing new came to move the commit on. librdkafka moves the
// consumer's position past markers (rd_kafka_consume_batch_queue), so a
// partition with nothing in flight is done up to there.
void WorkerImpl::pass_unseen_offsets() {
  PartitionList idle(rd_kafka_topic_partition_list_new(0));
  for (const auto& [where, partition] : partitions_) {
    if (partition.phase != PartitionPhase::kActive || !partition.offsets.started() ||
        partition.offsets.window() > 0) {
      continue;
    }
    rd_kafka_topic_partition_list_add(idle.get(), consumed_topics_[where.topic].c_str(),
                                      where.partition);
  }
  if (idle->cnt == 0 || rd_kafka_position(consumer_.get(), idle.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  for (int i = 0; i < idle->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = idle->elems[i];
    if (tp.err || tp.offset < 0) continue;
    if (PartitionContext* context = find_partition(tp.topic, tp.partition)) {
      context->offsets.pass_to(tp.offset);
    }
  }
}

void WorkerImpl::commit_phase() {
  flush_changelogs();  // their offsets are done once acknowledged: committed next time
  pass_unseen_offsets();
  bool circuit_not_closed = circuit_.state(Clock::now()) != CircuitState::kClosed;
  if (exactly_once_) return transaction_phase(circuit_not_closed);
  send_commit(circuit_not_closed);
}

// Before a handover or a stop: every position, then a wait for the answers
// that ends at `deadline` (or at once on a second signal). Never unbounded:
// a broker that stopped answering costs the deadline, not the process.
bool WorkerImpl::commit_and_wait(Clock::time_point deadline) {
  // A transaction that cannot commit within kTransactionDeadline will not:
  // the broker aborts it soon after.
  if (exactly_once_) {
    release_hold();
    return commit_transaction(true, false, std::min(deadline, Clock::now() + kTransactionDeadline));
  }
  send_commit(true);
  if (abandon_seen()) return false;
  return sink_->wait_for_commits(deadline);
}

void WorkerImpl::on_committed(const std::string& topic, int32_t partition, int64_t position,
                              bool ok) {
  if (ok) return;
  if (PartitionContext* context = find_partition(topic.c_str(), partition)) {
    context->offsets.forget_commit();
  }
}

void WorkerImpl::log_uncommitted() const {
  for (const CommitRequest& request : positions(true)) {
    spdlog::warn("stage {}: {}[{}] position {} was not confirmed committed; work since the "
                 "last confirmed commit runs again", spec_->name, *request.topic,
                 request.partition, request.position);
  }
}

}  // namespace sluice::engine
