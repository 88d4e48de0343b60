// Commits: input offsets whose every output the broker acknowledged.
#include <spdlog/spdlog.h>

#include "kafka_errors.h"
#include "worker_impl.h"

namespace sluice::engine {

void WorkerImpl::commit_phase(bool sync) {
  next_commit_ = Clock::now() + options_.commit_interval;
  std::vector<CommitPosition> positions = tracker_.committable();
  if (positions.empty()) return;
  PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
  for (const CommitPosition& position : positions) {
    rd_kafka_topic_partition_list_add(offsets.get(), input_topic_.c_str(), position.partition)
        ->offset = position.next_offset;
  }
  // Marked before the result is known; on_commit un-marks a failed commit so
  // the next commit phase tries again.
  tracker_.mark_committed(positions);
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), offsets.get(), sync ? 0 : 1);
  if (sync) on_commit(err, offsets.get());
}

void WorkerImpl::on_commit(rd_kafka_resp_err_t err,
                           const rd_kafka_topic_partition_list_t* offsets) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  spdlog::warn("stage {}: {}", spec_->name,
               kafka_status(err, "commit offsets of " + input_topic_).message());
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    tracker_.forget_commit(offsets->elems[i].partition);
  }
}

}  // namespace sluice::engine
