// WorkerObserver: how a worker reports what it does, for metrics and progress.
//
// The engine calls these from its worker thread only, never while holding a
// lock, and never lets an exception from them escape (observers must not
// throw). Implementations must be cheap: they run once per task. The default
// implementation ignores everything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice {

enum class TaskResult { kOk, kRetried, kDeadLettered };

class WorkerObserver {
 public:
  virtual ~WorkerObserver() = default;
  // A task attempt ended. end_to_end is since the job was submitted.
  virtual void task_ended(TaskResult result, double duration_seconds,
                          double end_to_end_seconds) {}
  virtual void inflight_changed(size_t tasks) {}
  virtual void paused_changed(bool paused) {}
  virtual void assignment_changed(size_t partitions) {}
  // One attempt failed, whatever came of it (retried or dead-lettered), with
  // its error kind ("timeout", "http_503", ...: DESIGN.md's list). The view
  // is valid for the call only.
  virtual void task_failed(std::string_view kind) {}
  // The stage's circuit breaker opened (true; it stays open while it probes,
  // half-open) or closed again (false).
  virtual void circuit_changed(bool open) {}
  // A stateful stage's restore applied `records` more changelog records;
  // `lag` records are left to read over the partitions still restoring.
  virtual void state_restored(size_t records, int64_t lag) {}
};

}  // namespace sluice
