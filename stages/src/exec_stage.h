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

 private:
  enum class State { kNew, kRunning, kClosing, kClosed };
  using Clock = std::chrono::steady_clock;

  // ExecChildHost, called from the child's threads.
  std::optional<std::string> next_line(uint64_t generation) override;
  void on_result(uint64_t generation, ResultLine result) override;
  void on_failure(uint64_t generation, std::string kind, std::string message) override;

  bool begin_close();
  void stop_live_child();
  void finish_close();
  void supervise();
  void spawn_child();
  void check_deadlines_locked(Clock::time_point now, CompletionBatch& batch);
  void fail_child_locked(const std::string& kind, const std::string& message,
                         CompletionBatch& batch);
  Clock::time_point next_wakeup_locked(Clock::time_point now) const;
  Clock::time_point deadline_from(Clock::time_point now) const;
  std::optional<Outcome> refusal_locked(const std::string& task_id) const;
  std::string stage() const { return "stage " + spec_.name; }

  const topics::StageSpec spec_;
  const ExecOptions options_;

  std::mutex mu_;
  // Separate, so that a task (a notify per process()) wakes the writer only,
  // not the supervisor as well.
  std::condition_variable writer_cv_;      // pending tasks, generation, state
  std::condition_variable supervisor_cv_;  // state, failures, kicks
  State state_ = State::kNew;
  TaskTable tasks_;
  std::unique_ptr<ExecChild> child_;  // the live child, if any
  uint64_t live_generation_ = 0;      // child_'s generation; 0: none
  uint64_t last_generation_ = 0;      // changed by the supervisor only
  bool child_answered_ = false;                   // child_ has produced a good result
  std::vector<std::unique_ptr<ExecChild>> dead_;  // failed, awaiting teardown
  std::string spawn_error_;                       // set while the command cannot be started
  RestartBackoff backoff_;
  Clock::time_point restart_at_{};
  Clock::time_point supervisor_wakeup_{};
  bool supervisor_kick_ = false;  // an earlier deadline arrived
  std::thread supervisor_;
};

}  // namespace sluice::stages
