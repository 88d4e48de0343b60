// Commits: input offsets whose every output the broker acknowledged.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>

#include "done_offsets.h"
#include "kafka_errors.h"
#include "worker_impl.h"

namespace sluice::engine {

namespace {

// The list frees element metadata with free(): hand it a malloc'd copy.
void set_metadata(rd_kafka_topic_partition_t* element, const std::string& metadata) {
  if (metadata.empty()) return;
  element->metadata = std::malloc(metadata.size());
  if (element->metadata == nullptr) return;  // the offsets above are rerun
  std::memcpy(element->metadata, metadata.data(), metadata.size());
  element->metadata_size = metadata.size();
}

}  // namespace

// Periodic commits (async) cover partitions whose position moved; a sync
// commit before a handover covers every partition, with the offsets done
// above its position in the metadata (see done_offsets.h).
void WorkerImpl::commit_phase(bool sync) {
  next_commit_ = Clock::now() + options_.commit_interval;
  std::vector<CommitPosition> positions =
      sync ? tracker_.handover_positions() : tracker_.committable();
  if (positions.empty()) return;
  PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
  for (const CommitPosition& position : positions) {
    rd_kafka_topic_partition_t* element = rd_kafka_topic_partition_list_add(
        offsets.get(), input_topic_.c_str(), position.partition);
    element->offset = position.next_offset;
    set_metadata(element, encode_done_offsets(position.next_offset, position.done_above));
  }
  // Marked before the result is known; on_commit un-marks a failed commit so
  // the next commit phase tries again.
  tracker_.mark_committed(positions);
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), offsets.get(), sync ? 0 : 1);
  // An async commit reports through on_commit later, unless it failed at once.
  if (sync || err != RD_KAFKA_RESP_ERR_NO_ERROR) on_commit(err, offsets.get());
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
