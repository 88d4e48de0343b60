// LogBudget: at most N task-level log lines a second. A burst of failures
// (an API down, 5% of a million tasks) would otherwise cost a formatted,
// flushed stderr line per task on the worker's own thread, and bury the rest
// of the log; every failure is still counted (metrics) and kept (the
// history, the DLQ). What was held back is said in one line per second.
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>

namespace sluice::engine {

class LogBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogBudget(int per_second) : per_second_(per_second) {}

  // Whether one more line may be logged now.
  bool allow(Clock::time_point now) {
    roll(now);
    if (used_ < per_second_) {
      ++used_;
      return true;
    }
    ++held_back_;
    return false;
  }
  // Lines held back in seconds that are over (then counted afresh).
  uint64_t take_held_back(Clock::time_point now) {
    roll(now);
    return std::exchange(ended_held_back_, 0);
  }
  int per_second() const { return per_second_; }

 private:
  void roll(Clock::time_point now) {
    if (now < window_end_) return;
    ended_held_back_ += std::exchange(held_back_, 0);
    used_ = 0;
    window_end_ = now + std::chrono::seconds(1);
  }

  int per_second_;
  int used_ = 0;
  uint64_t held_back_ = 0;        // in the current second
  uint64_t ended_held_back_ = 0;  // in seconds that are over, not yet taken
  Clock::time_point window_end_{};
};

}  // namespace sluice::engine
