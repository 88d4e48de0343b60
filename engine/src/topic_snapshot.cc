// TopicSnapshot: a group-less consumer bounded by the end offsets (high
// watermarks) it queried when it opened.
//
// A partition is finished when a record at or past its end offset arrives
// (a record written since: not ours) or when librdkafka reports partition
// EOF. EOF matters where the last offsets hold no record a consumer sees:
// transaction markers (exactly_once), or a read_committed consumer stopped
// at an open transaction; then the snapshot ends at what is readable now
// instead of waiting for records that may never come.
#include <spdlog/spdlog.h>

#include <map>

#include "kafka_errors.h"
#include "sluice/topic_snapshot.h"
#include "task_codec.h"
#include "topic_metadata.h"

namespace sluice {
namespace {

class TopicSnapshotImpl final : public TopicSnapshot {
 public:
  TopicSnapshotImpl(KafkaOptions kafka, std::string topic, Isolation isolation)
      : kafka_(std::move(kafka)), topic_(std::move(topic)), isolation_(isolation) {}

  Status start();
  Result<std::optional<SnapshotRecord>> next(std::chrono::milliseconds stall) override;

 private:
  Status take_end_offsets(int32_t partitions);
  // The record in `message`, if it lies below its partition's end offset;
  // finishes the partition when it reached its end.
  std::optional<SnapshotRecord> take(const rd_kafka_message_t& message);

  KafkaOptions kafka_;
  std::string topic_;
  Isolation isolation_;
  std::map<int32_t, int64_t> unfinished_;  // partition -> end offset (next_offset)
  engine::KafkaHandle consumer_;
};

Status TopicSnapshotImpl::start() {
  engine::ClientSpec spec = engine::consumer_spec("sluice-snapshot-" + engine::new_id());
  // Forced over consumer_spec's "false": without EOF a partition ending in a
  // transaction marker never finishes (next() stalled, then failed).
  spec.forced["enable.partition.eof"] = "true";
  if (isolation_ == Isolation::kReadCommitted) {
    // The watermark query below then asks for the last stable offsets too.
    kafka_.properties.erase("isolation.level");
    spec.defaults["isolation.level"] = "read_committed";
  }
  auto consumer = engine::connect_client(kafka_, std::move(spec));
  if (!consumer.is_ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  auto count = engine::topic_partitions(consumer_.get(), kafka_, topic_);
  if (!count.is_ok()) return count.status();
  if (Status s = take_end_offsets(*count); !s.is_ok()) return s;
  engine::PartitionList assignment(
      rd_kafka_topic_partition_list_new(static_cast<int>(unfinished_.size())));
  for (const auto& [partition, end] : unfinished_) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic_.c_str(), partition)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  return engine::kafka_status(rd_kafka_assign(consumer_.get(), assignment.get()),
                              "assign partitions of " + topic_);
}

Status TopicSnapshotImpl::take_end_offsets(int32_t partitions) {
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        consumer_.get(), topic_.c_str(), p, &low, &high,
        static_cast<int>(kafka_.connect_timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return engine::kafka_status(err, "read the end offsets of " + topic_ + "[" +
                                           std::to_string(p) + "]");
    }
    if (high > low) unfinished_[p] = high;  // an empty partition is finished already
  }
  return Status::ok();
}

std::optional<SnapshotRecord> TopicSnapshotImpl::take(const rd_kafka_message_t& message) {
  auto it = unfinished_.find(message.partition);
  if (it == unfinished_.end()) return std::nullopt;  // finished: later records are not ours
  if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF || message.offset >= it->second) {
    unfinished_.erase(it);
    return std::nullopt;
  }
  if (message.offset + 1 >= it->second) unfinished_.erase(it);
  SnapshotRecord record;
  record.partition = message.partition;
  record.offset = message.offset;
  record.timestamp_unix_ms = rd_kafka_message_timestamp(&message, nullptr);
  if (message.key) record.key.assign(static_cast<const char*>(message.key), message.key_len);
  if (message.payload) {
    record.value.assign(static_cast<const char*>(message.payload), message.len);
  } else {
    record.tombstone = true;
  }
  return record;
}

Result<std::optional<SnapshotRecord>> TopicSnapshotImpl::next(std::chrono::milliseconds stall) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + stall;
  while (!unfinished_.empty()) {
    if (Clock::now() >= deadline) {
      return transient_error("reading " + topic_ + " on " + kafka_.bootstrap + ": nothing for " +
                             std::to_string(stall.count() / 1000) + "s with " +
                             std::to_string(unfinished_.size()) + " partitions unread");
    }
    engine::KafkaMessage message(rd_kafka_consumer_poll(consumer_.get(), 200));
    if (!message) continue;
    bool eof = message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && !eof) {
      Status s = engine::kafka_status(message->err, "read " + topic_);
      // librdkafka reconnects by itself after transport errors.
      if (s.code() != StatusCode::kTransient) return s;
      spdlog::warn("{}", s.message());
      continue;
    }
    if (auto record = take(*message)) return std::optional<SnapshotRecord>(std::move(*record));
  }
  return std::optional<SnapshotRecord>();
}

}  // namespace

Result<std::unique_ptr<TopicSnapshot>> TopicSnapshot::open(const KafkaOptions& kafka,
                                                           const std::string& topic,
                                                           Isolation isolation) {
  auto snapshot = std::make_unique<TopicSnapshotImpl>(kafka, topic, isolation);
  if (Status s = snapshot->start(); !s.is_ok()) return s;
  return std::unique_ptr<TopicSnapshot>(std::move(snapshot));
}

bool decode_envelope(std::string_view bytes, v1::Envelope* envelope) {
  return engine::decode_envelope(bytes.data(), bytes.size(), envelope);
}

}  // namespace sluice
