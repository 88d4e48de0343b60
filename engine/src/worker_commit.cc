// Commits: input offsets whose every output the broker acknowledged, through
// the sink, each carrying the offsets done above it (done_offsets.h).
#include <spdlog/spdlog.h>

#include "worker_impl.h"

namespace sluice::engine {

// Every partition with a known start, or only those whose position moved.
std::vector<CommitRequest> WorkerImpl::positions(bool all) const {
  std::vector<CommitRequest> out;
  for (const auto& [where, partition] : partitions_) {
    if (!partition.offsets.started() || !(all || partition.offsets.moved())) continue;
    out.push_back({&consumed_topics_[where.topic], where.partition, partition.offsets.position(),
                   partition.offsets.done_above()});
  }
  return out;
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
void WorkerImpl::commit_phase() { send_commit(false); }

// Before a handover or a stop: every position, then a wait for the answers
// that ends at `deadline` (or at once on a second signal). Never unbounded:
// a broker that stopped answering costs the deadline, not the process.
bool WorkerImpl::commit_and_wait(Clock::time_point deadline) {
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
