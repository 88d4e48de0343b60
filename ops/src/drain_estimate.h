// How long a stage's queue takes to drain at its current throughput, how
// many workers would drain it within a target time, and which stage of a
// pipeline drains slowest (`sluice status`: the bottleneck).
#pragma once

#include <optional>
#include <string>

#include "sluice/inspect.h"

namespace sluice::ops {

struct DrainEstimate {
  int64_t waiting = 0;                  // input + retry records
  std::optional<double> seconds;        // nullopt: records wait and nothing drains them
  std::optional<int> workers_to_drain;  // within the target; at most `partitions`
};

// `partitions`: the stage's, the most workers that share its work.
DrainEstimate estimate_drain(const StageStatus& stage, int partitions, double target_seconds);

// The stage with records waiting that drains slowest (one nothing drains
// first), leaving out stages held back by backpressure (their cause is
// after them) unless only those wait; empty when nothing waits anywhere.
std::string bottleneck(const PipelineStatus& status);

}  // namespace sluice::ops
