#include "queue_depth.h"

#include <algorithm>

#include "restore_progress.h"
#include "task_codec.h"

#include "kafka_errors.h"
#include "kafka_handles.h"

namespace sluice::engine {
namespace {

Result<PartitionList> committed_offsets(rd_kafka_t* group_consumer,
                                        const std::string& topic, int partitions,
                                        std::chrono::milliseconds timeout) {
  PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  }
  rd_kafka_resp_err_t err = call_when_coordinator_ready(timeout, [&](int left_ms) {
    return rd_kafka_committed(group_consumer, list.get(), left_ms);
  });
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka_status(err, "committed offsets of " + topic);
  }
  return list;
}

}  // namespace

int64_t partition_depth(Watermarks marks, int64_t next_offset) {
  int64_t from = next_offset < 0 ? marks.low : std::max(next_offset, marks.low);
  return std::max<int64_t>(0, marks.high - from);
}

Result<RestoreProgress> restore_progress(rd_kafka_t* restore_group_consumer,
                                         const std::string& changelog_topic, int partitions,
                                         std::chrono::milliseconds timeout) {
  auto committed = committed_offsets(restore_group_consumer, changelog_topic, partitions, timeout);
  if (!committed.is_ok()) return committed.status();
  int64_t now = now_unix_ms();
  RestoreProgress progress;
  for (int i = 0; i < (*committed)->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = (*committed)->elems[i];
    if (tp.err || tp.metadata == nullptr) continue;
    auto mark = parse_restore_metadata(
        std::string_view(static_cast<const char*>(tp.metadata), tp.metadata_size));
    if (!mark) continue;
    int64_t left = records_left(*mark, tp.offset, now);
    if (left == 0) continue;
    ++progress.partitions;
    progress.records_left += left;
  }
  return progress;
}

}  // namespace sluice::engine
