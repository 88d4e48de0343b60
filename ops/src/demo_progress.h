// DemoProgress: counts finished tasks per stage of the demo and prints a
// progress line until the last stage has finished every job.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "sluice/observer.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {

class DemoProgress {
 public:
  explicit DemoProgress(const topics::PipelineSpec& spec);
  WorkerObserver* observer(const std::string& stage);
  // Prints a line per half second until the last stage counted `jobs` tasks,
  // `stop` is raised, or 120 s pass.
  void show_until_done(long jobs, const std::atomic<bool>& stop);

 private:
  struct Counter final : WorkerObserver {
    std::atomic<long> ok{0}, retried{0}, dead{0};
    void task_ended(TaskResult result, double, double) override {
      (result == TaskResult::kOk ? ok : result == TaskResult::kRetried ? retried : dead)++;
    }
  };
  void print_line(double seconds);

  std::vector<std::string> order_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
};

}  // namespace sluice::ops
