#include "delay_stage.h"

namespace sluice::bench {

DelayStage::DelayStage(std::chrono::milliseconds delay)
    : delay_(delay), timer_([this] { run_timer(); }) {}

DelayStage::~DelayStage() { (void)close(); }

void DelayStage::process(const Task& task, Completion done) {
  std::lock_guard lock(mutex_);
  waiting_.push({Clock::now() + delay_, task.payload, std::move(done)});
  wake_.notify_one();
}

Status DelayStage::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return Status::ok();
    closing_ = true;
    wake_.notify_one();
  }
  timer_.join();
  return Status::ok();
}

void DelayStage::run_timer() {
  std::unique_lock lock(mutex_);
  while (!closing_) {
    if (waiting_.empty()) {
      wake_.wait(lock);
      continue;
    }
    if (Clock::now() < waiting_.top().due) {
      wake_.wait_until(lock, waiting_.top().due);
      continue;
    }
    // priority_queue::top() is const: the element is moved out, then popped.
    Waiting due = std::move(const_cast<Waiting&>(waiting_.top()));
    waiting_.pop();
    lock.unlock();
    Outcome outcome;
    outcome.outputs.emplace_back().payload = std::move(due.payload);
    due.done(std::move(outcome));
    lock.lock();
  }
}

}  // namespace sluice::bench
