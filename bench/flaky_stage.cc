#include "flaky_stage.h"

#include <string_view>

namespace sluice::bench {
namespace {

// FNV-1a: stable across runs and builds, unlike std::hash.
uint32_t fnv1a(std::string_view text) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) hash = (hash ^ c) * 16777619u;
  return hash;
}

}  // namespace

void FlakyStage::process_in_place(const Task& task, Outcome& outcome) {
  auto now = FlakyCounts::Clock::now();
  uint32_t hash = fnv1a(task.job_id);
  bool failing_job = hash % 100 < static_cast<uint32_t>(fail_percent_);
  bool timed = failing_job && hash / 100 % kWaitSample == 0;
  if (task.attempt == 1) {
    ++counts_->first_attempts;
    counts_->last_first_attempt = now;
    if (failing_job) {
      ++counts_->failed;
      if (timed) counts_->failed_at[task.job_id] = now;
      outcome.kind = OutcomeKind::kRetry;
      outcome.error_kind = "error";
      outcome.error = "failure_benchmark: this job fails its first attempt";
      return;
    }
  } else {
    ++counts_->later_attempts;
    counts_->last_later_attempt = now;
    if (auto failed = timed ? counts_->failed_at.find(task.job_id) : counts_->failed_at.end();
        failed != counts_->failed_at.end()) {
      counts_->retry_waits_ms.push_back(
          std::chrono::duration<double, std::milli>(now - failed->second).count());
      counts_->failed_at.erase(failed);
    }
  }
  outcome.outputs.emplace_back().payload = task.payload;  // key, destination: as the input
}

Outcome FlakyStage::process_sync(const Task& task) {
  Outcome outcome;
  process_in_place(task, outcome);
  return outcome;
}

}  // namespace sluice::bench
