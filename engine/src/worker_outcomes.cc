// Outcomes: what a finished task becomes (outputs, a retry, a dead letter),
// and the acks that make its input offset committable.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "output_encoder.h"
#include "sluice/topics/utf8.h"
#include "task_codec.h"
#include "task_log.h"
#include "worker_impl.h"

namespace sluice::engine {

namespace {
// What a dead letter's sluice-error header keeps of the last error: enough
// to read in kcat; the whole message is in the envelope.
constexpr size_t kErrorHeaderBytes = 1024;
}  // namespace

void WorkerImpl::completion_phase() {
  completions_.drain(completed_scratch_);
  for (Completed& done : completed_scratch_) {
    TaskRecord* record = records_.find(done.task_id);
    if (record == nullptr || record->run != done.run) {
      ignore_late_outcome(done);
      continue;
    }
    if (record->state == TaskState::kAbandoned) {
      // Its partition went while it ran: only now are its slot and key free.
      circuit_.abandoned(Clock::now());
      dispatcher_.finish(record->lane);
      erase_record(*record);
      continue;
    }
    if (record->state != TaskState::kRunning) {
      ignore_late_outcome(done);  // it timed out, and its retry is on its way
      continue;
    }
    handle_outcome(*record, done.outcome);
  }
}

// An outcome of a run that no longer exists: the task timed out (and was
// retried or dead-lettered), or was dropped with its partition.
void WorkerImpl::ignore_late_outcome(const Completed& done) {
  auto it = std::find_if(timed_out_.begin(), timed_out_.end(), [&](const TimedOut& t) {
    return t.record_id == done.task_id && t.run == done.run;
  });
  if (it == timed_out_.end()) return;
  log_task(spdlog::level::info,
           {spec_->name, it->job_id, it->task_id, 0, "timeout"},
           "stage {}: ignored the late outcome of task {} of job {}: that attempt had timed out",
           spec_->name, it->task_id, it->job_id);
  timed_out_.erase(it);
}

void WorkerImpl::handle_outcome(TaskRecord& record, Outcome& outcome) {
  if (outcome.kind == OutcomeKind::kRetry && outcome.retry_after.count() > 0) {
    hold_stage(outcome.retry_after);
  }
  Clock::time_point now = Clock::now();
  switch (outcome.kind) {
    case OutcomeKind::kOk:
      circuit_.record_success(now);
      if (!take_state_change(record, outcome)) return;
      if (outcome.wake_after) arm_tick(*record.partition, *outcome.wake_after);
      return produce_outputs(record, outcome);
    case OutcomeKind::kRetry:
      // While the circuit is open (or probing) a failure says the dependency
      // is down, not that the task is bad: no attempt is charged.
      if (!circuit_.record_failure(now)) return wait_out_circuit(record, outcome);
      if (record.body->task.attempt < static_cast<uint32_t>(spec_->retry.max_attempts)) {
        return retry_later(record, outcome);
      }
      outcome.error = "gave up after " + std::to_string(record.body->task.attempt) +
                      " attempts: " + outcome.error;
      return dead_letter(record, outcome);
    case OutcomeKind::kFail:
      circuit_.record_success(now);  // the dependency answered: the task is at fault
      return dead_letter(record, outcome);
    case OutcomeKind::kRefused:
      circuit_.abandoned(now);
      return refused_later(record);
  }
}

// Every destination is resolved and every output encoded and size-checked
// before any is produced: a bad `to` or an output too large dead-letters the
// task with none of its outputs written.
void WorkerImpl::produce_outputs(TaskRecord& record, Outcome& outcome) {
  static const std::string kDone;
  const std::vector<Output>& outputs = outcome.outputs;
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
  const TaskBody& body = *record.body;
  if (encoded_scratch_.size() < targets.size()) {
    encoded_scratch_.resize(targets.size());
    output_ids_scratch_.resize(targets.size());
    output_keys_scratch_.resize(targets.size());
  }
  OutputAddress& address = address_scratch_;
  for (size_t i = 0; i < targets.size(); ++i) {
    address.destination_stage = *targets[i].stage;
    new_id(&output_ids_scratch_[i]);
    output_keys_scratch_[i] = encode_output_envelope(
        body.input, body.task, *targets[i].output, address, output_ids_scratch_[i],
        output_part(record, outcome, static_cast<size_t>(targets[i].output - outputs.data())),
        &encoded_scratch_[i]);
    size_t size = sink_->record_bytes({*targets[i].topic, output_keys_scratch_[i],
                                       encoded_scratch_[i], body.task.job_id,
                                       output_ids_scratch_[i]});
    if (size > sink_->max_record_bytes()) {
      return dead_letter(record, Outcome::fail("too_large",
                                               "output for " + *targets[i].topic + " is " +
                                                   std::to_string(size) +
                                                   " bytes, over max_record_bytes " +
                                                   std::to_string(sink_->max_record_bytes())));
    }
  }
  if (!encode_extra_dead_letters(record, outcome)) return;
  if (!apply_task_state(record)) return;
  size_t changelog_records = cache_task_state(record) ? 0 : state_records(record);
  size_t letters = outcome.dead_letters.size();
  move_to(record, TaskState::kProducing);
  dispatcher_.finish(record.lane);  // see task_state.h: why the key is free now
  record.pending_acks = static_cast<int>(targets.size() + letters + changelog_records);
  observe(TaskResult::kOk, record);
  uint64_t id = record.id;
  if (record.pending_acks == 0) return on_acked(id);
  for (size_t i = 0; i < targets.size(); ++i) {
    sink_->produce({*targets[i].topic, output_keys_scratch_[i], encoded_scratch_[i],
                    body.task.job_id, output_ids_scratch_[i]},
                   id);
    // A failure the sink knew at once may have dropped the record (a rewind).
    if (records_.find(id) != &record) return;
  }
  for (size_t i = 0; i < letters; ++i) {
    const Outcome::DeadLetter& letter = outcome.dead_letters[i];
    observer_->task_failed(letter.error_kind);
    log_task(spdlog::level::warn,
             {spec_->name, letter.job_id, {}, 0, letter.error_kind},
             "stage {}: dead-lettering job {} ({}: {})", spec_->name, letter.job_id,
             letter.error_kind, letter.error);
    sink_->produce({dlq_topic_, letter.key, extra_letters_scratch_[i], letter.job_id,
                    extra_letter_ids_scratch_[i], extra_letter_headers_scratch_[i]},
                   id);
    if (records_.find(id) != &record) return;
  }
  if (changelog_records > 0) {
    produce_task_state(record);
    if (records_.find(id) != &record) return;
  }
  release_body(record);
}

// The part an output carries (output_encoder.h): each output of a task with
// several is one part of a new fan-out, named by the task; the one output of
// a task carries the task's own part on, unless the stage ended the fan-out.
const TaskPart* WorkerImpl::output_part(const TaskRecord& record, const Outcome& outcome,
                                        size_t index) {
  const Task& task = record.body->task;
  if (outcome.outputs.size() > 1) {
    fan_part_scratch_.group = task.id;
    fan_part_scratch_.index = static_cast<uint32_t>(index);
    fan_part_scratch_.count = static_cast<uint32_t>(outcome.outputs.size());
    return &fan_part_scratch_;
  }
  if (outcome.ends_fan_out || !task.part) return nullptr;
  return &*task.part;
}

// The dead letters a task makes besides its outputs (Outcome::dead_letters),
// encoded and size-checked before anything is produced, like its outputs.
// Each is a job of its own that this task ends: its origin is this task's
// input. False when the task was dead-lettered instead (one is too large).
bool WorkerImpl::encode_extra_dead_letters(TaskRecord& record, const Outcome& outcome) {
  size_t count = outcome.dead_letters.size();
  if (extra_letters_scratch_.size() < count) {
    extra_letters_scratch_.resize(count);
    extra_letter_ids_scratch_.resize(count);
    extra_letter_headers_scratch_.resize(count);
  }
  for (size_t i = 0; i < count; ++i) {
    const Outcome::DeadLetter& dead = outcome.dead_letters[i];
    v1::Envelope letter;
    new_id(&extra_letter_ids_scratch_[i]);
    letter.set_job_id(dead.job_id);
    letter.set_task_id(extra_letter_ids_scratch_[i]);
    letter.set_parent_task_id(record.body->task.id);
    letter.set_causation_id(record.body->task.id);
    letter.set_pipeline(options_.spec.pipeline);
    letter.set_destination_stage(spec_->name);
    letter.set_attempt(1);
    letter.set_content_type(kJsonContentType);
    letter.set_payload(dead.payload);
    letter.set_key(dead.key);
    append_error(letter, {spec_->name, 1, dead.error_kind, dead.error});
    v1::Origin* origin = letter.mutable_origin();
    origin->set_topic(consumed_topics_[record.partition->where.topic]);
    origin->set_partition(record.partition->where.partition);
    origin->set_offset(record.offset);
    encode_letter(letter, &extra_letters_scratch_[i], &extra_letter_headers_scratch_[i]);
    size_t size = sink_->record_bytes({dlq_topic_, dead.key, extra_letters_scratch_[i],
                                       dead.job_id, extra_letter_ids_scratch_[i],
                                       extra_letter_headers_scratch_[i]});
    if (size > sink_->max_record_bytes()) {
      dead_letter(record, Outcome::fail("too_large", "a dead letter it made for job " +
                                                         dead.job_id + " is " +
                                                         std::to_string(size) +
                                                         " bytes, over max_record_bytes " +
                                                         std::to_string(sink_->max_record_bytes())));
      return false;
    }
  }
  return true;
}

// Once produced, a record only waits for acks: a failed delivery rewinds its
// partition and never needs the input again, so its body goes back to the
// spares. Its buffers stay for the next task (decoding into it reuses them),
// unless large: those go now, so spare bodies stay small.
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
  body->state_writes.clear();
  body->task.state = nullptr;
  spare_bodies_.push_back(std::move(body));
}

void WorkerImpl::erase_record(TaskRecord& record) {
  if (record.state == TaskState::kParked) --parked_;
  if (record.state == TaskState::kDelayed) --delayed_;
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

void WorkerImpl::dead_letter(TaskRecord& record, const Outcome& outcome) {
  const Task& task = record.body->task;
  observer_->task_failed(outcome.error_kind);
  append_error(input_envelope(record),
               {spec_->name, task.attempt, outcome.error_kind, outcome.error});
  if (task_log_.allow(Clock::now())) {
    log_task(spdlog::level::warn, log_fields(task, outcome.error_kind),
             "stage {}: dead-lettering task {} of job {} ({}: {})", spec_->name, task.id,
             task.job_id, outcome.error_kind, outcome.error);
  }
  send_dead_letter(record);
}

// A dead letter's bytes and headers, cut to fit max_record_bytes: first the
// payload goes, then all but the last error. What was cut is said in the
// last error. Headers name the last error, the stage, the attempts and the
// origin, for tools that read headers only.
void WorkerImpl::encode_letter(v1::Envelope& letter, std::string* bytes,
                               std::vector<RecordHeader>* headers) {
  // Room for key, headers (the error header is cut to kErrorHeaderBytes), framing.
  size_t limit = sink_->max_record_bytes() - 2048;
  if (letter.ByteSizeLong() > limit && !letter.payload().empty()) {
    size_t dropped = letter.payload().size();
    letter.clear_payload();
    if (letter.errors_size() > 0) {
      auto* last = letter.mutable_errors(letter.errors_size() - 1);
      last->set_message(last->message() + " (dead letter: the payload of " +
                        std::to_string(dropped) + " bytes was dropped to fit " +
                        std::to_string(sink_->max_record_bytes()) + " bytes)");
    }
  }
  if (letter.ByteSizeLong() > limit && letter.errors_size() > 1) {
    letter.mutable_errors()->DeleteSubrange(0, letter.errors_size() - 1);
  }
  letter.SerializeToString(bytes);
  headers->clear();
  if (letter.errors_size() > 0) {
    const v1::ErrorRecord& last = letter.errors(letter.errors_size() - 1);
    std::string error = last.message().substr(0, kErrorHeaderBytes);
    headers->push_back({"sluice-error", topics::to_valid_utf8(error)});
    headers->push_back({"sluice-error-kind", last.kind()});
  }
  headers->push_back({"sluice-stage", spec_->name});
  headers->push_back({"sluice-attempts", std::to_string(letter.attempt())});
  headers->push_back({"sluice-origin", letter.origin().topic() + "[" +
                                          std::to_string(letter.origin().partition()) + "]@" +
                                          std::to_string(letter.origin().offset())});
}

// The input as it came, plus its error history and where it was read from
// (encode_letter).
void WorkerImpl::send_dead_letter(TaskRecord& record) {
  v1::Envelope letter = input_envelope(record);
  put_task_back(record.body->task, &letter);
  letter.set_not_before_unix_ms(0);
  v1::Origin* origin = letter.mutable_origin();
  origin->set_topic(consumed_topics_[record.partition->where.topic]);
  origin->set_partition(record.partition->where.partition);
  origin->set_offset(record.offset);
  encode_letter(letter, &serialize_scratch_, &dlq_headers_scratch_);
  move_to(record, TaskState::kProducing);
  dispatcher_.finish(record.lane);
  record.dead_letter = true;
  record.pending_acks = 1;
  observe(TaskResult::kDeadLettered, record);
  uint64_t id = record.id;
  sink_->produce({dlq_topic_, letter.key(), serialize_scratch_, letter.job_id(),
                  letter.task_id(), dlq_headers_scratch_},
                 id);
  if (records_.find(id) == &record) release_body(record);
}

void WorkerImpl::on_acked(uint64_t record_id) {
  TaskRecord* record = records_.find(record_id);
  if (record == nullptr || record->state != TaskState::kProducing) return;
  if (--record->pending_acks > 0) return;
  if (record->changelog_flush != 0) return changelog_flushed(*record);
  if (record->changelog_cached) return defer_to_changelog(*record);
  record->partition->offsets.complete(record->offset);
  erase_record(*record);
}

// One place decides what a record the broker will not take becomes.
void WorkerImpl::on_send_failed(uint64_t record_id, SendFailure failure, const std::string& why) {
  TaskRecord* record = records_.find(record_id);
  if (record == nullptr || record->state != TaskState::kProducing) return;  // dropped already
  spdlog::error("stage {}: {}", spec_->name, why);
  PartitionContext& partition = *record->partition;
  // A changelog flush (at_least_once only): the offsets waiting for it run
  // again from the committed position.
  if (record->changelog_flush != 0) {
    if (failure == SendFailure::kFatal) {
      rewind_all_ = true;
      return;
    }
    return start_rewind(partition);
  }
  // exactly_once: the transaction cannot commit with a record missing; it
  // aborts, and every partition goes back (worker_transactions.cc).
  if (exactly_once_ && failure != SendFailure::kFatal) transaction_doomed_ = true;
  switch (failure) {
    case SendFailure::kTooLarge:
    case SendFailure::kInvalidRecord:
      if (record->dead_letter) {
        // The dead letter was cut to fit max_record_bytes: the topic's own
        // limit is lower. Stopping, uncommitted, loses nothing.
        fatal_ = Status(StatusCode::kFatal,
                        "stage " + spec_->name + ": " + dlq_topic_ + " refused a dead letter (" +
                            why + "); raise the topic's max.message.bytes or lower "
                            "max_record_bytes");
        return;
      }
      // Its input is gone (released on produce): the rewind reads it again,
      // and then it is dead-lettered with this error instead of being run.
      partition.refused[record->offset] = {
          failure == SendFailure::kTooLarge ? "too_large" : "invalid_record", why};
      if (exactly_once_) return;
      return start_rewind(partition);
    case SendFailure::kRetriable:
      if (exactly_once_) return;
      return start_rewind(partition);
    case SendFailure::kFatal:
      rewind_all_ = true;
      return;
  }
}

void WorkerImpl::observe(TaskResult result, const TaskRecord& record) {
  ++tasks_ended_;
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

}  // namespace sluice::engine
