// Outcomes: what a finished task becomes (outputs, a retry, a dead letter),
// and the delivery reports that make its input offset committable.
#include <spdlog/spdlog.h>

#include <random>

#include "kafka_errors.h"
#include "output_encoder.h"
#include "task_codec.h"
#include "worker_impl.h"

namespace sluice::engine {

void WorkerImpl::completion_phase() {
  completions_.drain(completed_scratch_);
  for (Completed& done : completed_scratch_) {
    TaskRecord* record = records_.find(done.task_id);
    // Unknown or not running: dropped by a revocation, rewind or shutdown.
    if (record == nullptr || record->state != TaskState::kRunning) continue;
    handle_outcome(*record, done.outcome);
  }
}

void WorkerImpl::handle_outcome(TaskRecord& record, Outcome& outcome) {
  switch (outcome.kind) {
    case OutcomeKind::kOk:
      dispatcher_.finish(record.lane);
      produce_outputs(record, outcome.outputs);
      return;
    case OutcomeKind::kRetry:
      if (record.body->task.attempt < static_cast<uint32_t>(spec_->retry.max_attempts)) {
        retry_later(record, outcome);
        return;
      }
      dispatcher_.finish(record.lane);
      outcome.error = "gave up after " + std::to_string(record.body->task.attempt) +
                      " attempts: " + outcome.error;
      dead_letter(record, outcome);
      return;
    case OutcomeKind::kFail:
      dispatcher_.finish(record.lane);
      dead_letter(record, outcome);
      return;
  }
}

void WorkerImpl::produce_outputs(TaskRecord& record, std::vector<Output>& outputs) {
  static const std::string kDone;
  // Resolve every destination first, so a bad `to` dead-letters the task
  // before any of its outputs is produced.
  std::vector<OutputTarget>& targets = targets_scratch_;
  targets.clear();
  for (const Output& output : outputs) {
    if (!output.to.empty()) {
      auto it = next_topics_.find(output.to);
      if (it == next_topics_.end()) {
        return dead_letter(record, Outcome::fail("bad_output", "output names stage '" + output.to +
                                                                   "', which is not in next"));
      }
      targets.push_back({&output, &it->second, &it->first});
    } else if (next_topics_.empty()) {
      targets.push_back({&output, &default_output_topics_.front(), &kDone});
    } else {
      for (const auto& [stage, topic] : next_topics_) targets.push_back({&output, &topic, &stage});
    }
  }
  record.state = TaskState::kProducing;
  record.pending_acks = static_cast<int>(targets.size());
  observe(TaskResult::kOk, record);
  if (targets.empty()) return record_acked(record);
  OutputAddress& address = address_scratch_;
  const TaskBody& body = *record.body;
  for (const OutputTarget& target : targets) {
    address.destination_stage = *target.stage;
    new_id(&output_id_scratch_);
    std::string_view key = encode_output_envelope(body.input, body.task, *target.output, address,
                                                  output_id_scratch_, &serialize_scratch_);
    if (!produce({*target.topic, key, body.task.job_id, output_id_scratch_}, record.id)) return;
  }
  release_body(record);
}

// Once produced, a record only waits for acks: a failed delivery rewinds to
// the last commit and never needs the input again, so its body goes back to
// the spares. Its buffers stay for the next task (decoding into it reuses
// them), unless large: those go now, so spare bodies stay small.
void WorkerImpl::release_body(TaskRecord& record) {
  if (!record.body) return;
  // Bounds what the spares keep: a burst of large records must not stay
  // allocated for the life of the process.
  constexpr size_t kMaxSpares = 1024;
  constexpr size_t kKeepBytes = 16 * 1024;
  std::unique_ptr<TaskBody> body = std::move(record.body);
  body_bytes_ -= body->input_bytes.size();
  if (spare_bodies_.size() >= kMaxSpares) return;
  if (body->task.payload.capacity() > kKeepBytes) std::string().swap(body->task.payload);
  if (body->input_bytes.capacity() > kKeepBytes) std::string().swap(body->input_bytes);
  body->envelope.reset();
  spare_bodies_.push_back(std::move(body));
}

void WorkerImpl::erase_record(TaskRecord& record) {
  release_body(record);
  records_.erase(record);
}

v1::Envelope& WorkerImpl::input_envelope(TaskRecord& record) {
  TaskBody& body = *record.body;
  if (!body.envelope) {
    v1::Envelope& envelope = body.envelope.emplace();
    // decode_input() accepted these bytes, but it skips nested error records
    // that the generated parser checks: if that fails, keep what was decoded
    // (put_task_back() adds the task's ids, key and payload when the
    // envelope is written; the earlier error history is lost).
    if (!envelope.ParseFromString(body.input_bytes)) {
      envelope.Clear();
      envelope.set_correlation_id(body.input.correlation_id);
      envelope.set_submitted_at_unix_ms(body.input.submitted_at_unix_ms);
      envelope.set_deadline_unix_ms(body.input.deadline_unix_ms);
      envelope.mutable_headers()->insert(body.task.headers.begin(), body.task.headers.end());
    }
  }
  return *body.envelope;
}

void WorkerImpl::retry_later(TaskRecord& record, const Outcome& outcome) {
  Task& task = record.body->task;
  append_error(input_envelope(record),
               {spec_->name, task.attempt, outcome.error_kind, outcome.error});
  observe(TaskResult::kRetried, record);
  // attempt n waits backoff * 2^(n-1), capped, with +-20% jitter so a crowd
  // of failures does not retry in lockstep.
  thread_local std::mt19937 rng{std::random_device{}()};
  double base = static_cast<double>(spec_->retry.backoff.count()) *
                static_cast<double>(1ULL << std::min<uint32_t>(task.attempt - 1, 30));
  base = std::min(base, static_cast<double>(spec_->retry.max_backoff.count()));
  double jittered = base * std::uniform_real_distribution<double>(0.8, 1.2)(rng);
  spdlog::info("stage {}: task {} of job {} attempt {} failed ({}: {}); retrying in {} ms",
               spec_->name, task.id, task.job_id, task.attempt,
               outcome.error_kind, outcome.error, static_cast<int64_t>(jittered));
  ++task.attempt;
  record.state = TaskState::kParked;
  dispatcher_.park();
  retries_.push({Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(jittered)),
                 record.id});
}

void WorkerImpl::dead_letter(TaskRecord& record, const Outcome& outcome) {
  const Task& task = record.body->task;
  append_error(input_envelope(record),
               {spec_->name, task.attempt, outcome.error_kind, outcome.error});
  spdlog::warn("stage {}: dead-lettering task {} of job {} ({}: {})", spec_->name,
               task.id, task.job_id, outcome.error_kind, outcome.error);
  send_dead_letter(record);
}

// The input as it came, plus its error history and where it was read from.
void WorkerImpl::send_dead_letter(TaskRecord& record) {
  v1::Envelope letter = input_envelope(record);
  put_task_back(record.body->task, &letter);
  v1::Origin* origin = letter.mutable_origin();
  origin->set_topic(input_topic_);
  origin->set_partition(record.partition);
  origin->set_offset(record.offset);
  record.state = TaskState::kProducing;
  record.pending_acks = 1;
  observe(TaskResult::kDeadLettered, record);
  if (produce(dlq_topic_, letter, record.id)) release_body(record);
}

bool WorkerImpl::produce(const std::string& topic, const v1::Envelope& envelope,
                         uint64_t record_id) {
  envelope.SerializeToString(&serialize_scratch_);
  return produce({topic, envelope.key(), envelope.job_id(), envelope.task_id()}, record_id);
}

// Hands serialize_scratch_ to the producer as one record. Waits while
// librdkafka's queue is full (that is backpressure, not an error). Any other
// error means the broker will never see this record: everything since the
// last commit is rewound.
bool WorkerImpl::produce(const OutgoingRecord& out, uint64_t record_id) {
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(out.topic.c_str()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(out.key.data(), out.key.size()),
        RD_KAFKA_V_VALUE(serialize_scratch_.data(), serialize_scratch_.size()),
        RD_KAFKA_V_HEADER("sluice-job-id", out.job_id.data(),
                          static_cast<ssize_t>(out.job_id.size())),
        RD_KAFKA_V_HEADER("sluice-task-id", out.task_id.data(),
                          static_cast<ssize_t>(out.task_id.size())),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(record_id)), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && give_up_waiting()) {
      spdlog::warn("stage {}: the producer queue stayed full until the shutdown deadline "
                   "(is {} acknowledging?); unacknowledged tasks are not committed and run "
                   "again after a restart",
                   spec_->name, options_.kafka.bootstrap);
      rewind_needed_ = true;
      return false;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      spdlog::error("stage {}: {}", spec_->name,
                    kafka_status(err, "produce to " + out.topic).message());
      rewind_needed_ = true;
      producer_fatal_ = producer_fatal_ || err == RD_KAFKA_RESP_ERR__FATAL;
      return false;
    }
    rd_kafka_poll(producer_.get(), 10);
  }
}

void WorkerImpl::delivery_phase(int wait_ms) { rd_kafka_poll(producer_.get(), wait_ms); }

void WorkerImpl::on_delivery(const rd_kafka_message_t* message) {
  auto id = reinterpret_cast<uint64_t>(message->_private);
  TaskRecord* record = records_.find(id);
  if (record == nullptr || record->state != TaskState::kProducing) return;
  if (message->err) {
    // Not delivered: the input must not be committed. A rewind re-reads
    // everything since the last commit (duplicates, never loss).
    spdlog::error("stage {}: {}", spec_->name,
                  kafka_status(message->err, std::string("delivery to ") +
                                                 rd_kafka_topic_name(message->rkt))
                      .message());
    rewind_needed_ = true;
    return;
  }
  if (--record->pending_acks == 0) record_acked(*record);
}

void WorkerImpl::record_acked(TaskRecord& record) {
  tracker_.complete(record.partition, record.offset);
  erase_record(record);
}

void WorkerImpl::observe(TaskResult result, const TaskRecord& record) {
  Clock::time_point now = Clock::now();
  double duration = std::chrono::duration<double>(now - record.started).count();
  int64_t submitted = record.body->input.submitted_at_unix_ms;
  double end_to_end = 0;
  if (submitted > 0) {
    auto unix_now = std::chrono::duration_cast<std::chrono::milliseconds>(
                        now.time_since_epoch() + unix_minus_steady_)
                        .count();
    end_to_end = static_cast<double>(unix_now - submitted) / 1000.0;
  }
  observer_->task_ended(result, duration, end_to_end);
}

void WorkerImpl::on_producer_error(int err, const char* reason) {
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code != RD_KAFKA_RESP_ERR__FATAL) {
    spdlog::warn("stage {}: producer: {}", spec_->name, reason);
    return;
  }
  char detail[512];
  rd_kafka_fatal_error(producer_.get(), detail, sizeof(detail));
  spdlog::error("stage {}: producer fatal error: {}; rebuilding it", spec_->name, detail);
  producer_fatal_ = true;
  rewind_needed_ = true;
}

}  // namespace sluice::engine
