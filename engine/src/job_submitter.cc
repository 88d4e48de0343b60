// JobSubmitter: one idempotent producer writing envelopes to <p>.intake.
//
// Delivery reports are served by rd_kafka_poll/rd_kafka_flush on the
// submitting thread, so the counters need no locking. Each message's opaque
// points at its job id in `in_flight_` (set nodes do not move), so a report
// says which job it is about. A bounded
// message.timeout.ms turns an unreachable broker into failed deliveries
// within that time instead of a flush that waits forever.
#include <unordered_set>

#include "envelope.pb.h"
#include "kafka_errors.h"
#include "sluice/submitter.h"
#include "sluice/topics/names.h"
#include "task_codec.h"
#include "topic_metadata.h"

namespace sluice {
namespace {

class JobSubmitterImpl final : public JobSubmitter {
 public:
  JobSubmitterImpl(const topics::PipelineSpec& spec, KafkaOptions kafka)
      : kafka_(std::move(kafka)),
        spec_file_(spec.file),
        pipeline_(spec.pipeline),
        entry_stage_(spec.entry_stage().name),
        intake_(topics::intake_topic(spec.pipeline)) {}

  Status start();
  Result<std::string> submit(const Job& job) override;
  Status flush(std::chrono::milliseconds timeout) override;
  size_t acknowledged() const override { return acknowledged_; }
  bool unacknowledged(const std::string& id) const override { return in_flight_.count(id) != 0; }

  void on_delivery(const rd_kafka_message_t* message) noexcept;

 private:
  v1::Envelope envelope_for(const Job& job, const std::string& id) const;
  rd_kafka_resp_err_t produce(const v1::Envelope& envelope, const std::string& id, void* opaque);

  KafkaOptions kafka_;
  std::string spec_file_, pipeline_, entry_stage_, intake_;
  size_t submitted_ = 0;
  size_t acknowledged_ = 0;
  Status first_error_;
  // Submitted and not acknowledged: in flight, or failed.
  std::unordered_set<std::string> in_flight_;
  // Last, so it is destroyed first: nothing of ours may be gone while
  // librdkafka can still call on_delivery.
  engine::KafkaHandle producer_;
};

void delivery_trampoline(rd_kafka_t*, const rd_kafka_message_t* message,
                         void* opaque) noexcept {
  static_cast<JobSubmitterImpl*>(opaque)->on_delivery(message);
}

void JobSubmitterImpl::on_delivery(const rd_kafka_message_t* message) noexcept {
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++acknowledged_;
    auto job = in_flight_.find(*static_cast<const std::string*>(message->_private));
    if (job != in_flight_.end()) in_flight_.erase(job);
  } else if (first_error_.is_ok()) {
    // Status construction allocates; an exception must not unwind into
    // librdkafka, and losing the text of an error beats terminating.
    try {
      first_error_ = engine::kafka_status(message->err, "produce to " + intake_);
    } catch (...) {
    }
  }
}

Status JobSubmitterImpl::start() {
  auto producer =
      engine::connect_client(kafka_, engine::tool_producer_spec(this, delivery_trampoline));
  if (!producer.is_ok()) return producer.status();
  producer_ = std::move(producer).value();
  auto topics = engine::describe_topics(producer_.get(), kafka_);
  if (!topics.is_ok()) return topics.status();
  if (topics->count(intake_) == 0) {
    return not_found("topic " + intake_ + " does not exist on " + kafka_.bootstrap +
                     "; create it with `sluice topics apply -f " + spec_file_ + "`");
  }
  return Status::ok();
}

v1::Envelope JobSubmitterImpl::envelope_for(const Job& job,
                                            const std::string& id) const {
  v1::Envelope envelope;
  envelope.set_job_id(id);
  envelope.set_task_id(id);
  envelope.set_correlation_id(id);
  envelope.set_pipeline(pipeline_);
  envelope.set_destination_stage(entry_stage_);
  envelope.set_attempt(1);
  envelope.set_submitted_at_unix_ms(engine::now_unix_ms());
  envelope.set_deadline_unix_ms(job.deadline_unix_ms);
  envelope.set_content_type(job.content_type);
  envelope.set_payload(job.payload);
  envelope.set_key(job.key ? *job.key : id);
  return envelope;
}

rd_kafka_resp_err_t JobSubmitterImpl::produce(const v1::Envelope& envelope,
                                              const std::string& id, void* opaque) {
  std::string value = envelope.SerializeAsString();
  const std::string& key = envelope.key();
  return rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_TOPIC(intake_.c_str()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(value.data(), value.size()),
      RD_KAFKA_V_HEADER(topics::kJobIdHeader, id.data(), static_cast<ssize_t>(id.size())),
      RD_KAFKA_V_HEADER(topics::kTaskIdHeader, id.data(), static_cast<ssize_t>(id.size())),
      RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

Result<std::string> JobSubmitterImpl::submit(const Job& job) {
  std::string id = engine::new_id();
  v1::Envelope envelope = envelope_for(job, id);
  auto slot = in_flight_.insert(id).first;
  rd_kafka_resp_err_t err;
  // A full local queue drains as the broker acknowledges; polling serves
  // those reports. With message.timeout.ms bounded, so is this loop.
  while ((err = produce(envelope, id, const_cast<std::string*>(&*slot))) ==
         RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    rd_kafka_poll(producer_.get(), 100);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    in_flight_.erase(slot);  // never queued: it is not on the broker
    return engine::kafka_status(err, "submit to " + intake_);
  }
  ++submitted_;
  rd_kafka_poll(producer_.get(), 0);  // serve delivery reports as we go
  return id;
}

Status JobSubmitterImpl::flush(std::chrono::milliseconds timeout) {
  rd_kafka_resp_err_t err =
      rd_kafka_flush(producer_.get(), static_cast<int>(timeout.count()));
  if (acknowledged_ == submitted_) return Status::ok();
  Status why = !first_error_.is_ok() ? first_error_
                                     : engine::kafka_status(err, "flush");
  if (why.is_ok()) why = transient_error("delivery reports still pending");
  return Status(why.code(), std::to_string(submitted_ - acknowledged_) + " of " +
                                std::to_string(submitted_) +
                                " jobs were not acknowledged by " + kafka_.bootstrap +
                                ": " + why.message());
}

}  // namespace

Result<std::unique_ptr<JobSubmitter>> JobSubmitter::create(
    const topics::PipelineSpec& spec, const KafkaOptions& kafka) {
  auto submitter = std::make_unique<JobSubmitterImpl>(spec, kafka);
  if (Status s = submitter->start(); !s.is_ok()) return s;
  return std::unique_ptr<JobSubmitter>(std::move(submitter));
}

}  // namespace sluice
