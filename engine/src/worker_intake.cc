// Intake: consumed records become tracked task records, and ready tasks start.
#include <spdlog/spdlog.h>

#include <algorithm>

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
  // (Batch consume around pause and resume skipped offsets before
  // librdkafka 2.1.0, and moved the position on errors until 2.13.2: the
  // build requires 2.13.2 or later.)
  if (intake_stopped_since_) {
    // Nothing is taken in (flow_control_phase): wait for the acks that end
    // the hold instead. Stage completions are served within 5 ms.
    sink_->poll(std::min(wait_ms, 5));
    return;
  }
  KafkaMessage first(rd_kafka_consumer_poll(consumer_.get(), wait_ms));
  if (!first) return;
  take_in(first.get());
  // Backpressure: no more than the room the next stages have left
  // (worker_backpressure.cc); past it the partitions pause.
  size_t room = static_cast<size_t>(std::clamp<int64_t>(room_ - taken_since_reading_, 0, kMaxBatch));
  if (room == 0) return;
  rd_kafka_message_t* batch[kMaxBatch];
  ssize_t count = rd_kafka_consume_batch_queue(consumer_queue_.get(), 0, batch, room);
  for (ssize_t i = 0; i < count; ++i) {
    KafkaMessage message(batch[i]);
    take_in(message.get());
  }
}

// Which consumed topic a message is of: by its topic handle, resolved by
// name the first time each is seen (librdkafka keeps one handle per topic).
int32_t WorkerImpl::topic_index(const rd_kafka_message_t* message) {
  for (size_t i = 0; i < consumed_handles_.size(); ++i) {
    if (consumed_handles_[i] == message->rkt) return static_cast<int32_t>(i);
  }
  const char* name = rd_kafka_topic_name(message->rkt);
  for (size_t i = 0; i < consumed_topics_.size(); ++i) {
    if (consumed_topics_[i] == name) {
      consumed_handles_[i] = message->rkt;
      return static_cast<int32_t>(i);
    }
  }
  return -1;
}

void WorkerImpl::take_in(const rd_kafka_message_t* message) {
  if (message->err) {
    spdlog::warn("stage {}: consume: {}", spec_->name, rd_kafka_message_errstr(message));
    return;
  }
  int32_t topic = topic_index(message);
  auto it = partitions_.find({topic, message->partition});
  // A late record of a revoked partition, or of one not (or no longer) active.
  if (it == partitions_.end() || it->second.phase != PartitionPhase::kActive) return;
  PartitionContext& partition = it->second;
  if (partition.pause_reasons & kPauseRestore) {
    // Paused since its assignment, so librdkafka discards what it fetched
    // before (its barrier); should a record get through, it waits for the
    // state and is read again: tracked (so that a partition not started yet
    // starts at it), then rewound.
    spdlog::warn("stage {}: a record of {}[{}] arrived while its state restores; read again "
                 "after the restore", spec_->name, consumed_topics_[topic], message->partition);
    (void)partition.offsets.take(message->offset);
    return start_rewind(partition);
  }
  int64_t offset = message->offset;
  switch (partition.offsets.take(offset)) {
    case PartitionOffsets::Intake::kStale: return;  // below the start, or already tracked
    case PartitionOffsets::Intake::kSkip: return;   // done by the previous owner
    case PartitionOffsets::Intake::kTrack: break;
  }
  ++taken_since_reading_;
  if (window_full(partition)) partition.set_reason(kPauseWindow, true);
  TaskRecord& record = records_.create();
  uint64_t id = record.id;
  record.state = TaskState::kWaiting;
  record.dead_letter = false;
  record.pending_acks = 0;
  record.run = 0;
  record.partition = &partition;
  record.offset = offset;
  record.changelog_cached = false;
  record.changelog_flush = 0;
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
  bool decoded = decode_input(value, key, &body.task, &body.input);
  if (!decoded) {
    // Foreign bytes: dead-lettered as they are, never retried, never blocking.
    body.envelope = undecodable_envelope(options_.spec.pipeline, spec_->name, value, key);
    take_task(*body.envelope, key, &body.task);
    body.input = {};
    spdlog::warn("stage {}: dead-lettering undecodable record at {}[{}]@{}", spec_->name,
                 consumed_topics_[topic], message->partition, offset);
  }
  // Refused by the broker before a rewind, or undecodable: dead-lettered in
  // its key's turn, so the key's order holds.
  if (auto refused = partition.refused.find(offset); refused != partition.refused.end()) {
    append_error(input_envelope(record),
                 {spec_->name, body.task.attempt, refused->second.kind, refused->second.message});
    record.dead_letter = true;
    partition.refused.erase(refused);
  } else if (!decoded) {
    record.dead_letter = true;
  } else if (topic == kRetryTopic && body.input.not_before_unix_ms > now_unix_ms()) {
    return delay_until_due(record, partition, body.input.not_before_unix_ms);
  }
  record.lane = dispatcher_.enqueue(body.task.key, id);
}

void WorkerImpl::dispatch_phase() {
  // While the stage is held (retry_after) or the sink is congested nothing
  // starts: the backlog drains first.
  if (!held()) release_due_retries();
  while (!held() && !sink_->congested() && may_start_task()) {
    auto id = dispatcher_.next_ready();
    if (!id) break;
    TaskRecord* record = records_.find(*id);
    SLUICE_CHECK(record != nullptr, "dispatched an unknown task");
    start_task(*record);
  }
  observer_->inflight_changed(dispatcher_.in_flight());
}

void WorkerImpl::start_task(TaskRecord& record) {
  move_to(record, TaskState::kRunning);
  record.started = Clock::now();
  ++record.run;
  if (record.dead_letter) {
    // Its error is known already (undecodable, or refused by the broker).
    const v1::Envelope& input = input_envelope(record);
    if (input.errors_size() > 0) observer_->task_failed(input.errors(input.errors_size() - 1).kind());
    return send_dead_letter(record);
  }
  if (int64_t deadline = record.body->input.deadline_unix_ms; deadline > 0) {
    int64_t late = now_unix_ms() - deadline;
    if (late > 0) {
      return dead_letter(record, Outcome::fail("deadline",
                                               "the job's deadline passed " +
                                                   std::to_string(late) + " ms before attempt " +
                                                   std::to_string(record.body->task.attempt)));
    }
  }
  circuit_.started(Clock::now());  // half-open: a probe
  bind_task_state(record);
  if (sync_stage_ != nullptr) return run_sync_task(record);
  uint64_t id = record.id;
  uint32_t run = record.run;
  CompletionQueue* queue = &completions_;
  watch_timeout(record);
  // User stage code may throw: this is the one guard that maps it to an outcome.
  try {
    stage_->process(record.body->task, [queue, id, run](Outcome outcome) {
      queue->push(id, run, std::move(outcome));
    });
  } catch (const std::exception& e) {
    completions_.push(id, run, Outcome::retry("exception", e.what()));
  } catch (...) {
    completions_.push(id, run, Outcome::retry("exception", "unknown exception"));
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
