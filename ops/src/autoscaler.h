// Autoscaler: the decisions of `sluice up --autoscale`, from what `sluice
// status` sees (queue depth, throughput, backpressure). Pure: the caller
// reads the status and applies a decision. At most one change per call:
//  - up, by one worker, for the stage whose queue drains slowest (depth /
//    throughput; a stage with records waiting and no worker first; one
//    whose workers report no throughput yet is left until they do), when
//    that takes longer than `target_drain`, the stage is not held back by
//    backpressure, no stage in its `next` is above its high watermark (more
//    workers would only fill it), and it is below its scale.max (capped at
//    its partitions);
//  - down, by one worker, for a stage that had nothing waiting for
//    `idle_after`, above its scale.min.
// A stage changed within `cool_down` is left alone (no flapping).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "sluice/inspect.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {

struct AutoscaleSettings {
  std::chrono::milliseconds target_drain{60000};
  std::chrono::milliseconds cool_down{30000};
  std::chrono::milliseconds idle_after{60000};
};

struct ScaleDecision {
  std::string stage;
  int from = 0;
  int to = 0;
  std::string reason;
};

class Autoscaler {
 public:
  using Clock = std::chrono::steady_clock;
  Autoscaler(const topics::PipelineSpec& spec, AutoscaleSettings settings)
      : spec_(spec), settings_(settings) {}

  // `workers`: the count each stage runs now (the supervisor's).
  std::optional<ScaleDecision> decide(const PipelineStatus& status,
                                      const std::map<std::string, int>& workers,
                                      Clock::time_point now);

  int ups() const { return ups_; }
  int downs() const { return downs_; }

 private:
  bool cooling(const std::string& stage, Clock::time_point now) const;
  bool next_stage_full(const topics::StageSpec& stage, const PipelineStatus& status) const;
  ScaleDecision record(ScaleDecision decision, Clock::time_point now);

  const topics::PipelineSpec& spec_;
  AutoscaleSettings settings_;
  std::map<std::string, Clock::time_point> changed_at_;
  std::map<std::string, Clock::time_point> idle_since_;
  int ups_ = 0;
  int downs_ = 0;
};

}  // namespace sluice::ops
