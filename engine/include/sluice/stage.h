// The stage interface: what a pipeline step implements, and what it sees.
//
// Modelled on Kafka Streams' Processor: init() once, process() per task,
// close() once. A stage never touches Kafka, never commits and never retries
// by itself: it reports an Outcome and the engine turns that into output
// records, a retry or a dead letter. process() is called from the worker's
// thread; `done` may be called from any thread, exactly once per task, and
// possibly before process() returns. `task` is valid only during the call:
// copy what outlives it. Exceptions thrown by process() are caught by the
// engine and become a retryable failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice {

inline constexpr const char* kJsonContentType = "application/json";

// "application/json", with or without parameters, or any "+json" type.
bool is_json_content_type(std::string_view content_type);

// A stateful stage's state (spec `state: true`) as one task sees it: named
// values scoped to the task's key, or (Scope::kPartition) shared by every
// key of the task's input partition. Writes are staged: they take effect
// with the task's outputs when it succeeds, and go to the stage's changelog
// with them; a task that fails or is retried leaves the state as it was.
// Reads see the task's own writes. Usable during process() only, on the
// worker's thread: a stage that completes elsewhere reads what it needs
// first and returns its change as Outcome::state_change.
class StageState {
 public:
  enum class Scope { kKey, kPartition };
  using Visitor = std::function<bool(std::string_view name, std::string_view value)>;

  virtual ~StageState() = default;
  // The value of `name`; nullopt when it has none. Errors are the store's
  // (kTransient or kFatal).
  virtual Result<std::optional<std::string>> get(std::string_view name,
                                                 Scope scope = Scope::kKey) const = 0;
  // kInvalidInput when the task's writes would exceed the stage's bound on
  // state per task (max_state_bytes).
  virtual Status put(std::string_view name, std::string value, Scope scope = Scope::kKey) = 0;
  virtual void erase(std::string_view name, Scope scope = Scope::kKey) = 0;
  // Calls `each(name, value)` for every name starting with `prefix`, in
  // byte order, until it returns false.
  virtual Status scan(std::string_view prefix, const Visitor& each,
                      Scope scope = Scope::kKey) const = 0;
};

// The name of a key's own state: what exec and http stages see as the task
// line's "state" and set with a result's "state".
inline constexpr std::string_view kKeyStateName = "";

// One output of a fan-out (a task with more than one output): output `index`
// of `count`, all made by task `group`. Stages that make one output of a task
// carry it on, so a gather further down can join the group.
struct TaskPart {
  std::string group;
  uint32_t index = 0;
  uint32_t count = 0;
  bool operator==(const TaskPart&) const = default;
};

struct Task {
  std::string id;      // task id, unique per attempt chain
  std::string job_id;  // the submitted job this task belongs to
  std::string key;     // ordering key: same key, same order
  uint32_t attempt = 1;
  std::string content_type;
  std::string payload;
  std::map<std::string, std::string> headers;
  // Set for a stage with `state: true`, during process() (see StageState).
  StageState* state = nullptr;
  std::optional<TaskPart> part;  // set when the task is one of a fan-out's outputs
  // A wake-up the stage asked for (Outcome::wake_after): no job's task, no
  // payload; its key is empty. Its outcome may carry dead_letters, never outputs.
  bool tick = false;
};

struct Output {
  std::string payload;
  std::optional<std::string> key;  // default: the input task's key
  std::string to;                  // a stage in `next`; empty: all of them
  std::string content_type;        // empty: same as the input
};

enum class OutcomeKind {
  kOk,     // outputs (possibly none) are the result
  kRetry,  // try again later, up to the retry policy
  kFail,   // will never succeed: dead-letter now
  // The stage cannot take the task now (it is at capacity): the engine runs it
  // again shortly, and the refusal costs no attempt.
  kRefused,
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::kOk;
  std::vector<Output> outputs;
  std::string error_kind;  // "error", "timeout", "crash", "exception", "http_503", ...
  std::string error;
  // With kRetry: the stage asks that nothing be retried before this (an exec
  // result's "retry_after", an HTTP Retry-After). The engine waits at least
  // this long before the task's next attempt and holds the whole stage (no
  // task starts) meanwhile: the dependency said it is overloaded. 0: none.
  std::chrono::milliseconds retry_after{0};
  // With kOk, for a stage with `state: true`: the key's own state
  // (kKeyStateName) becomes `value`, or is cleared when `value` is nullopt.
  // For stages that complete off the worker's thread (exec, http).
  struct StateChange {
    std::optional<std::string> value;
  };
  std::optional<StateChange> state_change;
  // With kOk, for a stage with `state: true` whose wakes() is true: run a
  // tick task on this task's input partition after this long (the earliest
  // asked for wins). Ticks are not durable: a stage asks again from the
  // tick it gets after each restore of the partition's state.
  std::optional<std::chrono::milliseconds> wake_after;
  // With kOk: jobs this task ends as dead letters besides its own outputs
  // (a gather's timed-out partial set), produced with them (and, under
  // exactly_once, in the same transaction).
  struct DeadLetter {
    std::string job_id;
    std::string key;
    std::string payload;  // JSON
    std::string error_kind;
    std::string error;
  };
  std::vector<DeadLetter> dead_letters;
  // With kOk: the outputs end the fan-out the task was part of, and carry
  // no part (a gather's combined task).
  bool ends_fan_out = false;

  static Outcome ok(std::vector<Output> outputs) {
    Outcome outcome;
    outcome.outputs = std::move(outputs);
    return outcome;
  }
  static Outcome retry(std::string kind, std::string message) {
    return failed(OutcomeKind::kRetry, std::move(kind), std::move(message));
  }
  static Outcome fail(std::string kind, std::string message) {
    return failed(OutcomeKind::kFail, std::move(kind), std::move(message));
  }
  static Outcome refused(std::string message) {
    return failed(OutcomeKind::kRefused, "refused", std::move(message));
  }
  // Back to ok with no outputs; the outputs vector keeps its capacity.
  void clear() {
    kind = OutcomeKind::kOk;
    outputs.clear();
    error_kind.clear();
    error.clear();
    retry_after = {};
    state_change.reset();
    wake_after.reset();
    dead_letters.clear();
    ends_fan_out = false;
  }

 private:
  static Outcome failed(OutcomeKind kind, std::string error_kind, std::string error) {
    Outcome outcome;
    outcome.kind = kind;
    outcome.error_kind = std::move(error_kind);
    outcome.error = std::move(error);
    return outcome;
  }
};

using Completion = std::function<void(Outcome)>;

// What a stage says of itself, asked by the engine between tasks (a few
// times a second, so it must be cheap). kUnavailable pauses consumption
// until the stage is healthy again (an exec child in a crash loop: its
// tasks wait, and no attempt is charged); kFailed stops the worker with
// `why` (a command that cannot start at all).
struct StageHealth {
  enum class Kind { kHealthy, kUnavailable, kFailed };
  Kind kind = Kind::kHealthy;
  std::string why;
};

struct StageContext {
  std::string pipeline;
  topics::StageSpec spec;
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual Status init(const StageContext& context) { return Status::ok(); }
  virtual void process(const Task& task, Completion done) = 0;
  // Stops the stage. Tasks still in flight get `done` with a retry outcome
  // or are abandoned; the engine never commits an abandoned task.
  virtual Status close() { return Status::ok(); }
  virtual StageHealth health() const { return {}; }
  // True for a stateful stage that uses Outcome::wake_after: each of its
  // input partitions gets a tick task once its state is restored, so that
  // deadlines kept in the state are found again after a move or a crash.
  virtual bool wakes() const { return false; }
};

// For stages whose work is a quick, synchronous function of one task. The
// engine calls these directly on its own thread, with no Completion and no
// hand-over queue: for a fast stage that overhead is most of the cost.
class SyncStage : public Stage {
 public:
  virtual Outcome process_sync(const Task& task) = 0;
  // What the engine calls. `outcome` arrives as an ok outcome with no
  // outputs, reused from task to task: override this to fill it in place,
  // so that no Outcome and no outputs vector is allocated per task.
  virtual void process_in_place(const Task& task, Outcome& outcome) {
    outcome = process_sync(task);
  }
  void process(const Task& task, Completion done) final { done(process_sync(task)); }
};

}  // namespace sluice
