#include "queue_depth.h"

#include <algorithm>

#include "done_offsets.h"
#include "restore_progress.h"
#include "task_codec.h"

#include <algorithm>
#include <thread>

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

// Right after a topic is created, or while a leader moves, the broker answers
// "not leader" for a moment: such transient answers are retried until the
// timeout, so `sluice status` after `topics apply` just works.
Result<Watermarks> query_watermarks(rd_kafka_t* rk, const std::string& topic,
                                    int32_t partition,
                                    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Watermarks marks;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        rk, topic.c_str(), partition, &marks.low, &marks.high,
        static_cast<int>(timeout.count()));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return marks;
    Status status = kafka_status(err, "watermarks of " + topic + "/" + std::to_string(partition));
    if (status.code() != StatusCode::kTransient ||
        std::chrono::steady_clock::now() + std::chrono::milliseconds(100) >= deadline) {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<int64_t> uncommitted_records(rd_kafka_t* group_consumer,
                                    const std::string& topic, int partitions,
                                    std::chrono::milliseconds timeout,
                                    int64_t* circuit_until) {
  auto committed = committed_offsets(group_consumer, topic, partitions, timeout);
  if (!committed.is_ok()) return committed.status();
  int64_t depth = 0;
  for (int i = 0; i < (*committed)->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = (*committed)->elems[i];
    if (circuit_until != nullptr && tp.metadata != nullptr) {
      *circuit_until = std::max(*circuit_until, decode_circuit_until(std::string_view(
                                                    static_cast<const char*>(tp.metadata),
                                                    tp.metadata_size)));
    }
    auto marks = query_watermarks(group_consumer, topic, tp.partition, timeout);
    if (!marks.is_ok()) return marks.status();
    // A per-partition error leaves offset at RD_KAFKA_OFFSET_INVALID (< 0):
    // counted from the low watermark, like a partition never committed.
    depth += partition_depth(*marks, tp.err ? -1 : tp.offset);
  }
  return depth;
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

Result<int64_t> stored_records(rd_kafka_t* rk, const std::string& topic,
                               int partitions, std::chrono::milliseconds timeout) {
  int64_t records = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    auto marks = query_watermarks(rk, topic, p, timeout);
    if (!marks.is_ok()) return marks.status();
    records += marks->high - marks->low;
  }
  return records;
}

}  // namespace sluice::engine
