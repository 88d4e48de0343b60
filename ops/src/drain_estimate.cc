#include "drain_estimate.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::ops {
DrainEstimate estimate_drain(const StageStatus& stage, int partitions, double target_seconds) {
  DrainEstimate estimate;
  estimate.waiting = stage.waiting();
  if (estimate.waiting == 0) {
    estimate.seconds = 0;
    estimate.workers_to_drain = stage.workers;
    return estimate;
  }
  if (stage.throughput <= 0) return estimate;
  estimate.seconds = static_cast<double>(estimate.waiting) / stage.throughput;
  if (stage.workers > 0 && target_seconds > 0) {
    double per_worker = stage.throughput / stage.workers;
    double needed = std::ceil(static_cast<double>(estimate.waiting) / (per_worker * target_seconds));
    estimate.workers_to_drain = static_cast<int>(std::clamp(needed, 1.0, double(partitions)));
  }
  return estimate;
}

std::string bottleneck(const PipelineStatus& status) {
  // A stage held back by backpressure drains slowly because of a stage after
  // it: that one is the bottleneck, unless every stage that waits is held.
  for (bool held_ones_too : {false, true}) {
    std::string slowest;
    double longest = -1;
    for (const StageStatus& stage : status.stages) {
      if (!held_ones_too && !stage.paused_by.empty()) continue;
      DrainEstimate estimate = estimate_drain(stage, 1, 0);
      if (estimate.waiting == 0) continue;
      double seconds = estimate.seconds.value_or(std::numeric_limits<double>::infinity());
      if (seconds > longest) {
        longest = seconds;
        slowest = stage.stage;
      }
    }
    if (!slowest.empty()) return slowest;
  }
  return {};
}

}  // namespace sluice::ops
