// Retries: a failed attempt waits (in memory, or on the retry topic) for its
// backoff; records of the retry topic wait for their not-before time; a
// stage's retry_after holds every task; an asynchronous builtin's run times
// out. DESIGN.md, Failures; the states are task_state.h's.
#include <spdlog/spdlog.h>

#include "retry_delay.h"
#include "task_codec.h"
#include "task_log.h"
#include "worker_impl.h"

namespace sluice::engine {
namespace {

// A task the stage refused for capacity runs again after this, at no cost.
constexpr auto kRefusedDelay = std::chrono::milliseconds(50);
// How many timed-out runs are remembered, to name their late outcomes.
constexpr size_t kTimedOutMemory = 256;

int64_t millis(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

// A retryable failure with attempts left: its error joins the history, and
// the next attempt waits its backoff, in memory (in_place) or on the retry
// topic (topic), whose record then carries the work.
void WorkerImpl::retry_later(TaskRecord& record, const Outcome& outcome) {
  const Task& task = record.body->task;
  observer_->task_failed(outcome.error_kind);
  Failure failure{spec_->name, task.attempt, outcome.error_kind, outcome.error};
  add_to_history(record, failure);
  Clock::duration delay =
      options_.retry_jitter
          ? retry_delay(spec_->retry, task.attempt, outcome.retry_after, options_.retry_jitter())
          : retry_delay(spec_->retry, task.attempt, outcome.retry_after);
  if (task_log_.allow(Clock::now())) {
    log_task(spdlog::level::info, log_fields(task, outcome.error_kind),
             "stage {}: task {} of job {} attempt {} failed ({}: {}); retrying in {} ms{}",
             spec_->name, task.id, task.job_id, task.attempt, outcome.error_kind, outcome.error,
             millis(delay),
             spec_->retry.mode == topics::RetryMode::kTopic ? " (retry topic)" : "");
  }
  observe(TaskResult::kRetried, record);
  if (spec_->retry.mode == topics::RetryMode::kInPlace) {
    ++record.body->task.attempt;
    return park(record, delay);
  }
  send_retry(record, failure, delay);
}

// The history is appended to the input's bytes, not to a parsed envelope:
// a failure then costs no parse and no re-serialization of its input (a
// retry record is those bytes plus a few fields; a dead letter parses them
// once). Measured on the failure benchmark: bench/README.md.
void WorkerImpl::add_to_history(TaskRecord& record, const Failure& failure) {
  TaskBody& body = *record.body;
  if (body.envelope) return append_error(*body.envelope, failure);  // parsed already
  size_t before = body.input_bytes.size();
  append_error(failure, &body.input_bytes);
  body_bytes_ += body.input_bytes.size() - before;
}

// The next attempt as a record of <p>.<stage>.retry, keyed like the task, so
// it lands on the retry partition this worker's group reads; once the broker
// has it, the input offset is done. A retry record too large for the broker
// (its history grew) is dead-lettered instead, with that said.
void WorkerImpl::send_retry(TaskRecord& record, const Failure& failure, Clock::duration delay) {
  const Task& task = record.body->task;
  NextAttempt next{task.attempt + 1, now_unix_ms() + millis(delay), spec_->name, task.key};
  if (std::optional<v1::Envelope>& parsed = record.body->envelope) {
    put_task_back(task, &*parsed);  // a parsed input keeps its history there
    parsed->SerializeToString(&serialize_scratch_);
  } else {
    serialize_scratch_ = record.body->input_bytes;
  }
  append_next_attempt(next, &serialize_scratch_);
  OutgoingRecord out{consumed_topics_[kRetryTopic], task.key, serialize_scratch_, task.job_id,
                     task.id};
  if (size_t size = sink_->record_bytes(out); size > sink_->max_record_bytes()) {
    v1::Envelope& letter = input_envelope(record);
    // Bytes the generated parser refused lose their history (input_envelope), this error too.
    if (letter.errors_size() == 0) append_error(letter, failure);
    v1::ErrorRecord* last = letter.mutable_errors(letter.errors_size() - 1);
    last->set_message(last->message() + " (not retried: its retry record of " +
                      std::to_string(size) + " bytes is over max_record_bytes " +
                      std::to_string(sink_->max_record_bytes()) + ")");
    return send_dead_letter(record);
  }
  move_to(record, TaskState::kProducing);
  dispatcher_.finish(record.lane);  // a later task of its key may overtake it
  record.pending_acks = 1;
  uint64_t id = record.id;
  sink_->produce(out, id);
  // A failure the sink knew at once may have dropped the record (a rewind).
  if (records_.find(id) == &record) release_body(record);
}

// The stage was at capacity: not the task's fault, so no attempt is charged.
void WorkerImpl::refused_later(TaskRecord& record) {
  log_task(spdlog::level::debug, log_fields(record.body->task),
           "stage {}: task {} refused by the stage; running it again shortly", spec_->name,
           record.body->task.id);
  park(record, kRefusedDelay);
}

void WorkerImpl::park(TaskRecord& record, Clock::duration wait) {
  move_to(record, TaskState::kParked);
  dispatcher_.release_slot();  // the key stays held: its later tasks wait
  retries_.push({Clock::now() + wait, record.id});
}

// The stage said its dependency is overloaded (retry_after): no task starts
// until then, and every partition pauses.
void WorkerImpl::hold_stage(Clock::duration wait) {
  Clock::time_point until = Clock::now() + wait;
  if (until <= held_until_) return;
  if (!held()) {
    spdlog::warn("stage {}: holding every task for {} ms: the stage asked to retry after that",
                 spec_->name, millis(wait));
  }
  held_until_ = until;
}

// A record of the retry topic read before its time. It holds no key and no
// slot (fresh tasks of its key go on), and its partition pauses until the
// partition's first delayed record is due: the backlog behind it waits on
// the broker, not in memory.
void WorkerImpl::delay_until_due(TaskRecord& record, PartitionContext& partition,
                                 int64_t not_before_unix_ms) {
  record.state = TaskState::kDelayed;
  ++delayed_;
  Clock::time_point due =
      Clock::now() + std::chrono::milliseconds(not_before_unix_ms - now_unix_ms());
  retries_.push({due, record.id});
  partition.delayed.push_back(due);
  partition.set_reason(kPauseRetryDelay, true);
}

// Parked tasks whose wait is over run again (their key is held: they go
// first, each needing a slot); delayed records that are due join their lane.
void WorkerImpl::release_due_retries() {
  auto now = Clock::now();
  while (!retries_.empty() && retries_.top().at <= now && !sink_->congested()) {
    TaskRecord* record = records_.find(retries_.top().id);
    if (record == nullptr ||
        (record->state != TaskState::kParked && record->state != TaskState::kDelayed)) {
      retries_.pop();  // dropped by a revocation or rewind meanwhile
      continue;
    }
    if (record->state == TaskState::kDelayed) {
      retries_.pop();
      move_to(*record, TaskState::kWaiting);
      record->lane = dispatcher_.enqueue(record->body->task.key, record->id);
      continue;
    }
    if (!may_start_task() || !dispatcher_.take_slot()) break;
    retries_.pop();
    start_task(*record);
  }
}

// A retry partition resumes once the first of its delayed records is due.
void WorkerImpl::update_retry_pauses() {
  auto now = Clock::now();
  for (auto& [where, partition] : partitions_) {
    if (where.topic != kRetryTopic) continue;
    while (!partition.delayed.empty() && partition.delayed.front() <= now) {
      partition.delayed.pop_front();
    }
    partition.set_reason(kPauseRetryDelay, !partition.delayed.empty());
  }
}

// Only asynchronous builtins: exec and http stages time their own attempts
// (killing a child, cancelling a call), and a synchronous stage runs on this
// thread, where nothing can interrupt it.
void WorkerImpl::watch_timeout(const TaskRecord& record) {
  if (spec_->kind != topics::StageKind::kBuiltin) return;
  timeouts_.push({record.started + spec_->timeout, record.id});
}

// A run past its timeout ends as a retryable "timeout" failure; the stage's
// outcome, should it still come, is ignored (ignore_late_outcome).
void WorkerImpl::expire_timeouts() {
  auto now = Clock::now();
  while (!timeouts_.empty() && timeouts_.top().at <= now) {
    uint64_t id = timeouts_.top().id;
    timeouts_.pop();
    TaskRecord* record = records_.find(id);
    // Ended already, or running again (a later run has its own entry).
    if (record == nullptr || record->state != TaskState::kRunning ||
        record->started + spec_->timeout > now) {
      continue;
    }
    const Task& task = record->body->task;
    timed_out_.push_back({record->id, record->run, task.id, task.job_id});
    if (timed_out_.size() > kTimedOutMemory) timed_out_.pop_front();
    Outcome outcome = Outcome::retry(
        "timeout", "no outcome within the timeout of " + topics::format_duration(spec_->timeout));
    handle_outcome(*record, outcome);
  }
}

// Whether the circuit lets another task start now (always, when closed).
bool WorkerImpl::may_start_task() { return circuit_.may_start(Clock::now()); }

// A failure while the circuit is open or probing: uncharged (the attempt
// number stays), counted as an error, and the task waits in memory for the
// cool-down to pass; then it runs again like any other.
void WorkerImpl::wait_out_circuit(TaskRecord& record, const Outcome& outcome) {
  observer_->task_failed(outcome.error_kind);
  log_task(spdlog::level::debug, log_fields(record.body->task, outcome.error_kind),
           "stage {}: task {} failed while the circuit is open ({}: {}); not charged",
           spec_->name, record.body->task.id, outcome.error_kind, outcome.error);
  Clock::time_point now = Clock::now();
  Clock::duration wait = circuit_.state(now) == CircuitState::kOpen
                             ? circuit_.open_until() - now
                             : Clock::duration(kRefusedDelay);
  park(record, std::max<Clock::duration>(wait, kRefusedDelay));
}

// Logs and reports the circuit's changes; while it is open the input and
// retry partitions pause (half-open, they flow again: the probes come from them).
void WorkerImpl::follow_circuit() {
  Clock::time_point now = Clock::now();
  for (const CircuitChange& change : circuit_.take_changes(now)) {
    spdlog::log(change.to == CircuitState::kClosed ? spdlog::level::info : spdlog::level::warn,
                "stage {}: {}", spec_->name, circuit_.describe(change));
    if (change.from == CircuitState::kClosed || change.to == CircuitState::kClosed) {
      observer_->circuit_changed(change.to != CircuitState::kClosed);
      send_commit(true);  // so that `status` sees the change now (worker_commit.cc)
    }
  }
  bool open = circuit_.state(now) == CircuitState::kOpen;
  for (auto& [where, partition] : partitions_) partition.set_reason(kPauseCircuit, open);
}

}  // namespace sluice::engine
