// TopicReader: a consumer that assigns partitions itself instead of joining
// a group.
//
// librdkafka needs a group.id even for assign(); a unique throwaway one
// ("sluice-tail-<id>") with auto commit off means the reader never commits,
// never joins, and never shows up as a worker of any stage.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "envelope.pb.h"
#include "kafka_errors.h"
#include "sluice/topic_reader.h"
#include "task_codec.h"
#include "topic_metadata.h"

namespace sluice {
namespace {

void copy_envelope(const v1::Envelope& envelope, TopicRecord& record) {
  record.decoded = true;
  record.job_id = envelope.job_id();
  record.task_id = envelope.task_id();
  record.parent_task_id = envelope.parent_task_id();
  record.key = envelope.key();
  record.source_stage = envelope.source_stage();
  record.destination_stage = envelope.destination_stage();
  record.attempt = envelope.attempt();
  record.submitted_at_unix_ms = envelope.submitted_at_unix_ms();
  record.not_before_unix_ms = envelope.not_before_unix_ms();
  record.deadline_unix_ms = envelope.deadline_unix_ms();
  record.content_type = envelope.content_type();
  record.payload = envelope.payload();
  record.headers.insert(envelope.headers().begin(), envelope.headers().end());
  for (const v1::ErrorRecord& e : envelope.errors()) {
    record.errors.push_back({e.stage(), e.attempt(), e.kind(), e.message(), e.time_unix_ms()});
  }
  if (envelope.has_origin()) {
    record.origin_topic = envelope.origin().topic();
    record.origin_partition = envelope.origin().partition();
    record.origin_offset = envelope.origin().offset();
  }
}

TopicRecord to_record(const rd_kafka_message_t& message) {
  TopicRecord record;
  record.topic = rd_kafka_topic_name(message.rkt);
  record.partition = message.partition;
  record.offset = message.offset;
  rd_kafka_timestamp_type_t type;
  record.timestamp_unix_ms = rd_kafka_message_timestamp(&message, &type);
  if (message.key) {
    record.record_key.assign(static_cast<const char*>(message.key), message.key_len);
  }
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.record_headers[name] =
          value == nullptr ? std::string() : std::string(static_cast<const char*>(value), size);
    }
  }
  v1::Envelope envelope;
  if (engine::decode_envelope(message.payload, message.len, &envelope)) {
    copy_envelope(envelope, record);
  } else if (message.payload) {
    record.payload.assign(static_cast<const char*>(message.payload), message.len);
  }
  return record;
}

class TopicReaderImpl final : public TopicReader {
 public:
  TopicReaderImpl(KafkaOptions kafka, std::string topic)
      : kafka_(std::move(kafka)), topic_(std::move(topic)) {}

  Status start(bool from_beginning);
  Result<std::optional<TopicRecord>> next(std::chrono::milliseconds wait) override;

 private:
  KafkaOptions kafka_;
  std::string topic_;
  engine::KafkaHandle consumer_;
};

Status TopicReaderImpl::start(bool from_beginning) {
  auto consumer = engine::connect_client(
      kafka_, engine::consumer_spec("sluice-tail-" + engine::new_id()));
  if (!consumer.is_ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  auto count = engine::topic_partitions(consumer_.get(), kafka_, topic_);
  if (!count.is_ok()) return count.status();
  engine::PartitionList partitions(rd_kafka_topic_partition_list_new(*count));
  for (int32_t p = 0; p < *count; ++p) {
    rd_kafka_topic_partition_list_add(partitions.get(), topic_.c_str(), p)->offset =
        from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
  }
  return engine::kafka_status(rd_kafka_assign(consumer_.get(), partitions.get()),
                              "assign partitions of " + topic_);
}

Result<std::optional<TopicRecord>> TopicReaderImpl::next(std::chrono::milliseconds wait) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + wait;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    engine::KafkaMessage message(rd_kafka_consumer_poll(
        consumer_.get(), static_cast<int>(std::max<int64_t>(0, left.count()))));
    if (!message) return std::optional<TopicRecord>();
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return std::optional<TopicRecord>(to_record(*message));
    Status s = engine::kafka_status(message->err, "read " + topic_);
    // Transport errors and the like are reports, not failures: librdkafka
    // reconnects and resumes fetching by itself.
    if (s.code() != StatusCode::kTransient) return s;
    spdlog::warn("{}", s.message());
    if (Clock::now() >= deadline) return std::optional<TopicRecord>();
  }
}

}  // namespace

Result<std::unique_ptr<TopicReader>> TopicReader::create(const KafkaOptions& kafka,
                                                         const std::string& topic,
                                                         bool from_beginning) {
  auto reader = std::make_unique<TopicReaderImpl>(kafka, topic);
  if (Status s = reader->start(from_beginning); !s.is_ok()) return s;
  return std::unique_ptr<TopicReader>(std::move(reader));
}

}  // namespace sluice
