// DelayStage: the passthrough stage (each task's payload passed on as one
// output) whose every task waits `delay` first, on a timer, without holding
// a thread: the builtin counterpart of examples/agents/append_stage.py
// --delay-ms, a stand-in for a model or API call. Up to the stage's
// concurrency wait at once; their completions come from the timer's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "sluice/stage.h"

namespace sluice::bench {

class DelayStage final : public Stage {
 public:
  explicit DelayStage(std::chrono::milliseconds delay);
  ~DelayStage() override;
  void process(const Task& task, Completion done) override;
  // Tasks still waiting are abandoned (the engine never commits them).
  Status close() override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Waiting {
    Clock::time_point due;
    std::string payload;
    Completion done;
    bool operator>(const Waiting& other) const { return due > other.due; }
  };
  void run_timer();

  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Waiting, std::vector<Waiting>, std::greater<>> waiting_;
  bool closing_ = false;
  std::thread timer_;  // last: starts once the members above exist
};

}  // namespace sluice::bench
