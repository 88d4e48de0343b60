// ExecStage: the exec stage kind (see sluice/stages/exec.h for the contract
// and threading; stages/README.md for the protocol).
//
// Inside: a TaskTable of pending and in-flight tasks, the live ExecChild
// (one generation of the child process with its writer, reader and stderr
// threads), and a supervisor thread that spawns and restarts children with
// backoff, tears failed ones down and enforces the per-task timeout. One
// mutex guards all of it; completions run after it is released.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exec_child.h"
#include "exec_task_table.h"
#include "restart_backoff.h"
#include "sluice/stages/exec.h"

namespace sluice::stages {

class ExecStage final : public Stage, private ExecChildHost {
 public:
  ExecStage(topics::StageSpec spec, ExecOptions options);
  ~ExecStage() override;

  Status init(const StageContext& context) override;
  void process(const Task& task, Completion done) override;
  Status close() override;
  StageHealth health() const override;

 private:
  enum class State { kNew, kRunning, kClosing, kClosed };
  using Clock = std::chrono::steady_clock;

  // ExecChildHost, called from the child's threads.
  std::optional<std::string> next_line(uint64_t generation) override;
  void on_result(uint64_t generation, ResultLine result) override;
  void on_failure(uint64_t generation, std::string kind, std::string message,
                  bool read_input) override;

  bool begin_close();
  void stop_live_child();
  void finish_close();
  void supervise();
  void spawn_child();
  bool writable_locked(uint64_t generation) const;
  void check_recovery_locked(Clock::time_point now);
  void check_deadlines_locked(Clock::time_point now, CompletionBatch& batch);
  struct ChildFailure {
    std::string kind, message;
    bool read_input = true;                // it read some of its stdin
    std::optional<std::string> hung_task;  // a timeout: the task that ran past it
  };
  void fail_child_locked(const ChildFailure& failure, CompletionBatch& batch);
  void charge_locked(const std::string& id, const std::string& kind, std::string message,
                     CompletionBatch& batch);
  void silent_death_locked(const std::string& message, std::chrono::milliseconds delay);
  Clock::time_point next_wakeup_locked(Clock::time_point now) const;
  Clock::time_point deadline_from(Clock::time_point now) const;
  std::optional<Outcome> refusal_locked(const std::string& task_id) const;
  std::string stage() const { return "stage " + spec_.name; }

  const topics::StageSpec spec_;
  const ExecOptions options_;

  mutable std::mutex mu_;
  // Separate, so that a task (a notify per process()) wakes the writer only,
  // not the supervisor as well.
  std::condition_variable writer_cv_;      // pending tasks, generation, state
  std::condition_variable supervisor_cv_;  // state, failures, kicks
  State state_ = State::kNew;
  TaskTable tasks_;
  std::unique_ptr<ExecChild> child_;  // the live child, if any
  uint64_t live_generation_ = 0;      // child_'s generation; 0: none
  uint64_t last_generation_ = 0;      // changed by the supervisor only
  bool child_answered_ = false;                   // child_ has written a result line
  bool ever_answered_ = false;                    // some child has, since init()
  int silent_deaths_ = 0;  // in a row: children that died before reading or answering
  StageHealth health_;
  std::vector<std::unique_ptr<ExecChild>> dead_;  // failed, awaiting teardown
  RestartBackoff backoff_;
  Clock::time_point restart_at_{};
  Clock::time_point supervisor_wakeup_{};
  bool supervisor_kick_ = false;  // an earlier deadline arrived
  std::thread supervisor_;
};

}  // namespace sluice::stages
