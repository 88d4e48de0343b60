// Intake: consumed records become tracked task records, and ready tasks start.
#include <spdlog/spdlog.h>

#include "task_codec.h"
#include "worker_impl.h"

namespace sluice::engine {

namespace {
constexpr int kMaxBatch = 500;
}

void WorkerImpl::consume_phase(int wait_ms) {
  // One poll that may block, then what is already fetched, in one batch with
  // no wait (rd_kafka_consume_batch_queue with a timeout would wait for a
  // full batch). Every message returned is taken in, even past the pause
  // threshold: librdkafka resumes after the last message it handed out.
  KafkaMessage first(rd_kafka_consumer_poll(consumer_.get(), wait_ms));
  if (!first) return;
  take_in(first.get());
  rd_kafka_message_t* batch[kMaxBatch];
  ssize_t count = rd_kafka_consume_batch_queue(consumer_queue_.get(), 0, batch, kMaxBatch);
  for (ssize_t i = 0; i < count; ++i) {
    KafkaMessage message(batch[i]);
    take_in(message.get());
  }
}

void WorkerImpl::take_in(const rd_kafka_message_t* message) {
  if (message->err) {
    spdlog::warn("stage {}: consume: {}", spec_->name, rd_kafka_message_errstr(message));
    return;
  }
  intake(message);
}

void WorkerImpl::intake(const rd_kafka_message_t* message) {
  int32_t partition = message->partition;
  if (!tracker_.is_assigned(partition)) return;  // a late record of a revoked partition
  if (tracker_.take_skip(partition, message->offset)) {
    // Finished by the previous owner (its commit metadata says so).
    if (tracker_.track(partition, message->offset)) tracker_.complete(partition, message->offset);
    return;
  }
  if (!tracker_.track(partition, message->offset)) {
    // librdkafka went back in this partition (offset reset): start it over
    // from here; anything in flight for it is dropped, not committed.
    drop_records([partition](const TaskRecord& r) { return r.partition == partition; });
    tracker_.assign(partition);
    (void)tracker_.track(partition, message->offset);
  }
  TaskRecord& record = records_.create();
  uint64_t id = record.id;
  record.state = TaskState::kWaiting;
  record.pending_acks = 0;
  record.partition = partition;
  record.offset = message->offset;
  std::string_view key(static_cast<const char*>(message->key), message->key ? message->key_len : 0);
  std::string_view value(static_cast<const char*>(message->payload),
                         message->payload ? message->len : 0);
  if (spare_bodies_.empty()) {
    record.body = std::make_unique<TaskBody>();
  } else {
    record.body = std::move(spare_bodies_.back());
    spare_bodies_.pop_back();
  }
  TaskBody& body = *record.body;
  body.input_bytes.assign(value);
  body_bytes_ += value.size();
  if (!decode_input(value, key, &body.task, &body.input)) {
    // Foreign bytes: dead-lettered as they are, never retried, never blocking.
    body.envelope = undecodable_envelope(options_.spec.pipeline, spec_->name, value, key);
    take_task(*body.envelope, key, &body.task);
    body.input = {};
    record.started = Clock::now();
    spdlog::warn("stage {}: dead-lettering undecodable record at {}[{}]@{}", spec_->name,
                 input_topic_, partition, message->offset);
    send_dead_letter(record);
    return;
  }
  record.lane = dispatcher_.enqueue(body.task.key, id);
}

void WorkerImpl::dispatch_phase() {
  // Retries whose backoff has passed go first: their keys are blocked.
  // After a failed produce (rewind_needed_) nothing starts: everything not
  // acked is dropped and re-read, so more tasks would only add duplicates.
  auto now = Clock::now();
  while (!rewind_needed_ && !retries_.empty() && retries_.top().at <= now) {
    TaskRecord* record = records_.find(retries_.top().id);
    if (record == nullptr || record->state != TaskState::kParked) {
      retries_.pop();  // dropped by a revocation or rewind meanwhile
      continue;
    }
    if (!dispatcher_.try_unpark()) break;
    retries_.pop();
    start_task(*record);
  }
  while (!rewind_needed_) {
    auto id = dispatcher_.next_ready();
    if (!id) break;
    TaskRecord* record = records_.find(*id);
    SLUICE_CHECK(record != nullptr, "dispatched an unknown task");
    start_task(*record);
  }
  observer_->inflight_changed(dispatcher_.in_flight());
}

void WorkerImpl::start_task(TaskRecord& record) {
  record.state = TaskState::kRunning;
  record.started = Clock::now();
  if (sync_stage_ != nullptr) return run_sync_task(record);
  uint64_t id = record.id;
  CompletionQueue* queue = &completions_;
  // User stage code may throw: this is the one guard that maps it to an outcome.
  try {
    stage_->process(record.body->task, [queue, id](Outcome outcome) {
      queue->push(id, std::move(outcome));
    });
  } catch (const std::exception& e) {
    completions_.push(id, Outcome::retry("exception", e.what()));
  } catch (...) {
    completions_.push(id, Outcome::retry("exception", "unknown exception"));
  }
}

// A synchronous stage's outcome is handled at once: no Completion to
// allocate, no queue to pass through, and the outcome's buffers are reused.
void WorkerImpl::run_sync_task(TaskRecord& record) {
  Outcome& outcome = sync_outcome_;
  outcome.clear();
  try {
    sync_stage_->process_in_place(record.body->task, outcome);
  } catch (const std::exception& e) {
    outcome = Outcome::retry("exception", e.what());
  } catch (...) {
    outcome = Outcome::retry("exception", "unknown exception");
  }
  handle_outcome(record, outcome);
}

}  // namespace sluice::engine
