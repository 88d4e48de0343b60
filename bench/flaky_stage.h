// FlakyStage: the passthrough stage (each task's payload passed on as one
// output) that fails a fixed share of jobs once. A job fails when the
// FNV-1a hash of its job id, mod 100, is below `fail_percent`: the same jobs
// in every run of an invocation, about fail_percent% of them. Such a job's
// attempt 1 returns Outcome::retry; its attempt 2 passes it on. With
// fail_percent 0 it is the no-failure baseline, doing the same work (the
// hash included) per task.
//
// It counts what it saw into a FlakyCounts that the caller owns and reads
// once the worker has stopped (the stage runs on the worker's thread). The
// wait from a failure to the next attempt is timed for a sample of the
// failing jobs only (1 in kWaitSample, by hash): a map of every failure
// (~50,000 job ids per million records) cost the failing run more loop CPU
// than the engine's retry path did, and polluted the cache of the engine's
// own per-record work (measured, bench/README.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/stage.h"

namespace sluice::bench {

struct FlakyCounts {
  using Clock = std::chrono::steady_clock;
  int64_t first_attempts = 0;  // tasks seen at attempt 1
  int64_t failed = 0;          // of them, answered with Outcome::retry
  int64_t later_attempts = 0;  // tasks seen at attempt 2 or later
  // For the sampled failing jobs: from the failure to the next attempt, in ms.
  std::vector<double> retry_waits_ms;
  Clock::time_point last_first_attempt{};  // when the last attempt-1 task ran
  Clock::time_point last_later_attempt{};  // when the last attempt >= 2 ran
  std::unordered_map<std::string, Clock::time_point> failed_at;  // sampled, by job id
};

// One failing job in this many has its retry wait timed.
constexpr uint32_t kWaitSample = 32;

class FlakyStage final : public SyncStage {
 public:
  FlakyStage(int fail_percent, FlakyCounts* counts)
      : fail_percent_(fail_percent), counts_(counts) {}
  void process_in_place(const Task& task, Outcome& outcome) override;
  Outcome process_sync(const Task& task) override;

 private:
  int fail_percent_;
  FlakyCounts* counts_;
};

}  // namespace sluice::bench
