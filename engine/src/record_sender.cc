// RecordSender: an idempotent producer whose delivery reports mark records
// acknowledged by number.
//
// Delivery reports are served by rd_kafka_poll/rd_kafka_flush on the
// sending thread, so `acked_` needs no lock. A record's opaque is its
// number, not a pointer: `acked_` grows as records are sent.
#include <cstdint>

#include "kafka_errors.h"
#include "sluice/record_sender.h"
#include "topic_metadata.h"

namespace sluice {
namespace {

class RecordSenderImpl final : public RecordSender {
 public:
  explicit RecordSenderImpl(KafkaOptions kafka) : kafka_(std::move(kafka)) {}

  Status start(const std::vector<std::string>& topics);
  Result<size_t> send(const OutgoingRecord& record) override;
  FlushReport flush(std::chrono::milliseconds timeout) override;

  void on_delivery(const rd_kafka_message_t* message) noexcept;

 private:
  rd_kafka_resp_err_t produce(const OutgoingRecord& record, size_t number);
  Status why_unacknowledged(size_t number, std::chrono::milliseconds timeout) const;

  KafkaOptions kafka_;
  std::vector<bool> acked_;
  std::vector<rd_kafka_resp_err_t> errors_;
  std::vector<std::string> topics_;  // of each record, for error messages
  // Last, so it is destroyed first: librdkafka may call on_delivery until then.
  engine::KafkaHandle producer_;
};

void delivery_trampoline(rd_kafka_t*, const rd_kafka_message_t* message,
                         void* opaque) noexcept {
  static_cast<RecordSenderImpl*>(opaque)->on_delivery(message);
}

void RecordSenderImpl::on_delivery(const rd_kafka_message_t* message) noexcept {
  auto number = reinterpret_cast<uintptr_t>(message->_private);
  if (number >= acked_.size()) return;  // not one of ours: cannot happen
  acked_[number] = message->err == RD_KAFKA_RESP_ERR_NO_ERROR;
  errors_[number] = message->err;
}

Status RecordSenderImpl::start(const std::vector<std::string>& topics) {
  auto producer =
      engine::connect_client(kafka_, engine::tool_producer_spec(this, delivery_trampoline));
  if (!producer.is_ok()) return producer.status();
  producer_ = std::move(producer).value();
  auto existing = engine::describe_topics(producer_.get(), kafka_);
  if (!existing.is_ok()) return existing.status();
  for (const std::string& topic : topics) {
    if (existing->count(topic) == 0) {
      return not_found("topic " + topic + " does not exist on " + kafka_.bootstrap);
    }
  }
  return Status::ok();
}

rd_kafka_resp_err_t RecordSenderImpl::produce(const OutgoingRecord& record, size_t number) {
  rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
  for (const auto& [name, value] : record.headers) {
    rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
  rd_kafka_resp_err_t err = rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
      RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(number))),
      RD_KAFKA_V_END);
  // On success the message owns the headers; on failure they are still ours.
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(headers);
  return err;
}

Result<size_t> RecordSenderImpl::send(const OutgoingRecord& record) {
  size_t number = acked_.size();
  acked_.push_back(false);
  errors_.push_back(RD_KAFKA_RESP_ERR__IN_PROGRESS);
  topics_.push_back(record.topic);
  rd_kafka_resp_err_t err;
  // A full local queue drains as the broker acknowledges; polling serves
  // those reports. With message.timeout.ms bounded, so is this loop.
  while ((err = produce(record, number)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    rd_kafka_poll(producer_.get(), 100);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    errors_[number] = err;
    return engine::kafka_status(err, "produce to " + record.topic);
  }
  rd_kafka_poll(producer_.get(), 0);
  return number;
}

Status RecordSenderImpl::why_unacknowledged(size_t number,
                                            std::chrono::milliseconds timeout) const {
  if (errors_[number] != RD_KAFKA_RESP_ERR__IN_PROGRESS) {
    return engine::kafka_status(errors_[number], "produce to " + topics_[number]);
  }
  return transient_error("produce to " + topics_[number] + ": no acknowledgement from " +
                         kafka_.bootstrap + " within " +
                         std::to_string(timeout.count() / 1000) + "s");
}

FlushReport RecordSenderImpl::flush(std::chrono::milliseconds timeout) {
  rd_kafka_flush(producer_.get(), static_cast<int>(timeout.count()));
  FlushReport report;
  for (size_t n = 0; n < acked_.size(); ++n) {
    if (acked_[n]) continue;
    if (report.unacknowledged.empty()) report.first_error = why_unacknowledged(n, timeout);
    report.unacknowledged.push_back(n);
  }
  return report;
}

}  // namespace

Result<std::unique_ptr<RecordSender>> RecordSender::create(const KafkaOptions& kafka,
                                                           const std::vector<std::string>& topics) {
  auto sender = std::make_unique<RecordSenderImpl>(kafka);
  if (Status s = sender->start(topics); !s.is_ok()) return s;
  return std::unique_ptr<RecordSender>(std::move(sender));
}

}  // namespace sluice
