#include "autoscaler.h"

#include <cmath>
#include <limits>

#include "drain_estimate.h"

namespace sluice::ops {
namespace {

std::string seconds_text(double seconds) {
  return std::isinf(seconds) ? "never" : std::to_string(static_cast<long long>(seconds)) + " s";
}

}  // namespace

bool Autoscaler::cooling(const std::string& stage, Clock::time_point now) const {
  auto it = changed_at_.find(stage);
  return it != changed_at_.end() && now - it->second < settings_.cool_down;
}

bool Autoscaler::next_stage_full(const topics::StageSpec& stage,
                                 const PipelineStatus& status) const {
  for (const std::string& next : stage.next) {
    const topics::StageSpec* spec = spec_.find_stage(next);
    for (const StageStatus& s : status.stages) {
      if (s.stage != next || spec == nullptr) continue;
      if (s.waiting() > spec->backpressure.high_watermark) {
        return true;
      }
    }
  }
  return false;
}

ScaleDecision Autoscaler::record(ScaleDecision decision, Clock::time_point now) {
  changed_at_[decision.stage] = now;
  idle_since_.erase(decision.stage);
  (decision.to > decision.from ? ups_ : downs_) += 1;
  return decision;
}

std::optional<ScaleDecision> Autoscaler::decide(const PipelineStatus& status,
                                                const std::map<std::string, int>& workers,
                                                Clock::time_point now) {
  double target = std::chrono::duration<double>(settings_.target_drain).count();
  const StageStatus* slowest = nullptr;
  double longest = -1;
  for (const StageStatus& stage : status.stages) {
    const topics::StageSpec* spec = spec_.find_stage(stage.stage);
    auto count = workers.find(stage.stage);
    if (spec == nullptr || count == workers.end()) continue;
    DrainEstimate drain = estimate_drain(stage, spec->partitions, target);
    if (drain.waiting > 0) {
      idle_since_.erase(stage.stage);
    } else if (!idle_since_.contains(stage.stage)) {
      idle_since_[stage.stage] = now;
    }
    // Workers that report no throughput yet (just started) are not measured:
    // no decision on them. A stage without workers is scaled from 0.
    bool unmeasured = count->second > 0 && stage.throughput <= 0;
    if (drain.waiting == 0 || unmeasured || !stage.paused_by.empty() || cooling(stage.stage, now) ||
        count->second >= spec->scale.max_for(spec->partitions) || next_stage_full(*spec, status)) {
      continue;
    }
    double seconds = drain.seconds.value_or(std::numeric_limits<double>::infinity());
    if (seconds > target && seconds > longest) {
      longest = seconds;
      slowest = &stage;
    }
  }
  if (slowest != nullptr) {
    int from = workers.at(slowest->stage);
    return record({slowest->stage, from, from + 1,
                   "its " + std::to_string(slowest->waiting()) +
                       " waiting records drain in " + seconds_text(longest) + " at " +
                       std::to_string(static_cast<long long>(slowest->throughput)) +
                       "/s, over the target " + seconds_text(target)},
                  now);
  }
  for (const StageStatus& stage : status.stages) {
    const topics::StageSpec* spec = spec_.find_stage(stage.stage);
    auto count = workers.find(stage.stage);
    auto idle = idle_since_.find(stage.stage);
    if (spec == nullptr || count == workers.end() || idle == idle_since_.end()) continue;
    if (count->second > spec->scale.min && now - idle->second >= settings_.idle_after &&
        !cooling(stage.stage, now)) {
      auto idle_for = std::chrono::duration_cast<std::chrono::seconds>(now - idle->second);
      return record({stage.stage, count->second, count->second - 1,
                     "nothing waited for " + std::to_string(idle_for.count()) + " s"},
                    now);
    }
  }
  return std::nullopt;
}

}  // namespace sluice::ops
