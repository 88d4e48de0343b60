// RestartBackoff: how long to wait before restarting a failed exec child.
// Doubles from `min` up to `max` on consecutive failures; reset() after a
// child proved healthy. Plain value, no locking (ExecStage holds its lock).
#pragma once

#include <algorithm>
#include <chrono>

namespace sluice::stages {

class RestartBackoff {
 public:
  using Millis = std::chrono::milliseconds;
  RestartBackoff(Millis min, Millis max) : min_(min), max_(std::max(min, max)), next_(min) {}

  // The delay before this restart; the next one waits twice as long.
  Millis next() {
    Millis delay = next_;
    next_ = std::min(max_, next_ * 2);
    return delay;
  }
  void reset() { next_ = min_; }

 private:
  Millis min_, max_, next_;
};

}  // namespace sluice::stages
