// GatedStage: a passthrough stage with a gate. While the gate is closed each
// task's outcome is held (the task stays running); opening it delivers the
// held outcomes and lets every later task straight through. Fault tests use
// it to arm a fault while tasks are in mid-flight, before their outputs are
// produced.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sluice/stage.h"

namespace sluice::testing {

class GatedStage : public Stage {
 public:
  explicit GatedStage(bool open) : open_(open) {}

  void process(const Task& task, Completion done) override {
    std::unique_lock lock(mutex_);
    if (!open_) {
      held_.push_back({task.payload, std::move(done)});
      return;
    }
    lock.unlock();
    done(passed_on(task.payload));
  }

  void close_gate() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open_gate() {
    std::vector<std::pair<std::string, Completion>> held;
    {
      std::lock_guard lock(mutex_);
      open_ = true;
      held.swap(held_);
    }
    for (auto& [payload, done] : held) done(passed_on(payload));
  }
  size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }

 private:
  static Outcome passed_on(const std::string& payload) {
    Outcome outcome;
    outcome.outputs.emplace_back().payload = payload;
    return outcome;
  }

  std::mutex mutex_;
  bool open_;
  std::vector<std::pair<std::string, Completion>> held_;
};

}  // namespace sluice::testing
