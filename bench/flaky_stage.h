// FlakyStage: the passthrough stage (each task's payload passed on as one
// output) that fails a fixed share of jobs once. A job fails when the
// FNV-1a hash of its job id, mod 100, is below `fail_percent`: the same jobs
// in every run of an invocation, about fail_percent% of them. Such a job's
// attempt 1 returns Outcome::retry; its attempt 2 passes it on. With
// fail_percent 0 it is the no-failure baseline, doing the same work (the
// hash included) per task.
//
// It counts what it saw into a FlakyCounts that the caller owns and reads
// once the worker has stopped (the stage runs on the worker's thread).
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
  // For each retried attempt: from its failure to its next attempt, in ms.
  std::vector<double> retry_waits_ms;
  Clock::time_point last_first_attempt{};  // when the last attempt-1 task ran
  Clock::time_point last_later_attempt{};  // when the last attempt >= 2 ran
  std::unordered_map<std::string, Clock::time_point> failed_at;  // by job id
};

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
