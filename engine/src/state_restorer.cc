#include "state_restorer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "kafka_errors.h"
#include "restore_progress.h"
#include "task_codec.h"
#include "topic_metadata.h"

namespace sluice::engine {
namespace {

constexpr int kMaxBatch = 1000;

std::string where(const std::string& topic, int32_t partition) {
  return topic + "[" + std::to_string(partition) + "]";
}

}  // namespace

Result<std::unique_ptr<StateRestorer>> StateRestorer::create(const KafkaOptions& kafka,
                                                             std::string changelog_topic,
                                                             bool read_committed,
                                                             const std::string& progress_group) {
  // The group is never joined: partitions are assigned, and the commits
  // only report progress (restore_progress.h).
  ClientSpec spec = consumer_spec(progress_group, read_committed);
  // Without EOF a partition ending in a transaction marker never finishes.
  spec.forced["enable.partition.eof"] = "true";
  auto consumer = connect_client(kafka, std::move(spec));
  if (!consumer.is_ok()) return consumer.status();
  return std::unique_ptr<StateRestorer>(
      new StateRestorer(kafka, std::move(changelog_topic), std::move(consumer).value()));
}

StateRestorer::StateRestorer(KafkaOptions kafka, std::string topic, KafkaHandle consumer)
    : kafka_(std::move(kafka)), topic_(std::move(topic)), consumer_(std::move(consumer)) {
  rd_kafka_poll_set_consumer(consumer_.get());
  queue_.reset(rd_kafka_queue_get_consumer(consumer_.get()));
}

Status StateRestorer::begin(int32_t partition, int64_t from) {
  if (restoring(partition)) {
    return fatal_error("restore of " + where(topic_, partition) + " began twice");
  }
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      consumer_.get(), topic_.c_str(), partition, &low, &high,
      static_cast<int>(kafka_.connect_timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka_status(err, "read the end offset of " + where(topic_, partition));
  }
  // Compaction or retention may have removed what lay before `low`; what
  // is left from there is the changelog's whole content.
  int64_t start = std::max(from, low);
  if (start >= high) {
    finished_.push_back({partition, std::max(from, high)});
    return Status::ok();
  }
  restores_[partition] = {start, high};
  return assign(partition, start, true);
}

Status StateRestorer::cancel(int32_t partition) {
  auto it = restores_.find(partition);
  if (it == restores_.end()) return Status::ok();
  restores_.erase(it);
  return assign(partition, 0, false);
}

Status StateRestorer::assign(int32_t partition, int64_t from, bool add) {
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition)->offset = from;
  KafkaError error(add ? rd_kafka_incremental_assign(consumer_.get(), list.get())
                       : rd_kafka_incremental_unassign(consumer_.get(), list.get()));
  if (!error) return Status::ok();
  return fatal_error(std::string(add ? "assign " : "unassign ") + where(topic_, partition) +
                     " for its restore: " + rd_kafka_error_string(error.get()));
}

void StateRestorer::report(const std::vector<Finished>& finished) {
  if (restores_.empty() && finished.empty()) return;
  int64_t now = now_unix_ms();
  PartitionList list(rd_kafka_topic_partition_list_new(
      static_cast<int>(restores_.size() + finished.size())));
  auto add = [&](int32_t partition, int64_t offset, const std::string& metadata) {
    rd_kafka_topic_partition_t* entry =
        rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition);
    entry->offset = offset;
    // librdkafka frees what it holds here with the list.
    entry->metadata = rd_kafka_mem_malloc(nullptr, metadata.size());
    std::copy(metadata.begin(), metadata.end(), static_cast<char*>(entry->metadata));
    entry->metadata_size = metadata.size();
  };
  for (const auto& [partition, restore] : restores_) {
    add(partition, restore.next, restoring_metadata(restore.end, now));
  }
  for (const Finished& done : finished) add(done.partition, done.offset, restored_metadata(now));
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::debug("{}", kafka_status(err, "report the restore of " + topic_).message());
  }
}

int64_t StateRestorer::lag() const {
  int64_t lag = 0;
  for (const auto& [partition, restore] : restores_) lag += restore.end - restore.next;
  return lag;
}

Result<std::vector<StateRestorer::Finished>> StateRestorer::poll(StateStore& store,
                                                                 int wait_ms) {
  std::vector<Finished> finished = std::move(finished_);
  finished_.clear();
  if (restores_.empty()) return finished;
  rd_kafka_message_t* batch[kMaxBatch];
  ssize_t count = rd_kafka_consume_batch_queue(queue_.get(), wait_ms, batch, kMaxBatch);
  if (count < 0) {
    return kafka_status(rd_kafka_last_error(), "read " + topic_ + " for a restore");
  }
  std::map<int32_t, StateWrites> writes;
  Status failed;
  for (ssize_t i = 0; i < count; ++i) {
    KafkaMessage message(batch[i]);
    auto it = restores_.find(message->partition);
    if (it == restores_.end()) continue;  // cancelled, or finished within this batch
    Restore& restore = it->second;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      restore.next = std::max(restore.next, message->offset);
    } else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Status s = kafka_status(message->err, "read " + where(topic_, message->partition));
      // librdkafka retries transport errors by itself.
      if (s.code() != StatusCode::kTransient) {
        if (failed.is_ok()) failed = s;
        continue;
      }
      spdlog::warn("{}", s.message());
      continue;
    } else if (message->offset < restore.end) {
      std::string key;
      if (message->key) key.assign(static_cast<const char*>(message->key), message->key_len);
      StateWrites& partition_writes = writes[message->partition];
      if (message->payload) {
        partition_writes.put(std::move(key),
                             std::string(static_cast<const char*>(message->payload), message->len));
      } else {
        partition_writes.erase(std::move(key));  // a tombstone
      }
      ++records_restored_;
      restore.next = message->offset + 1;
    } else {
      restore.next = std::max(restore.next, restore.end);  // written since: not ours
    }
  }
  if (!failed.is_ok()) return failed;
  for (auto& [partition, partition_writes] : writes) {
    if (Status s = store.apply(partition, partition_writes); !s.is_ok()) return s;
  }
  for (auto it = restores_.begin(); it != restores_.end();) {
    if (it->second.next < it->second.end) {
      ++it;
      continue;
    }
    finished.push_back({it->first, it->second.next});
    int32_t partition = it->first;
    it = restores_.erase(it);
    if (Status s = assign(partition, 0, false); !s.is_ok()) return s;
  }
  return finished;
}

}  // namespace sluice::engine
