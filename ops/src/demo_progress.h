// DemoProgress: counts finished tasks per stage of the demo and prints a
// progress line until the last stage has finished every job.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
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
  // When the last stage finished its first task, if it did.
  std::optional<std::chrono::steady_clock::time_point> first_done() const;

 private:
  struct Counter final : WorkerObserver {
    std::atomic<long> ok{0}, retried{0}, dead{0};
    std::atomic<int64_t> first_ok_ns{0};  // steady clock; 0 until the first ok
    void task_ended(TaskResult result, double, double) override {
      (result == TaskResult::kOk ? ok : result == TaskResult::kRetried ? retried : dead)++;
      if (result == TaskResult::kOk && first_ok_ns.load(std::memory_order_relaxed) == 0) {
        int64_t zero = 0;
        first_ok_ns.compare_exchange_strong(
            zero, std::chrono::steady_clock::now().time_since_epoch().count());
      }
    }
  };
  void print_line(double seconds);

  std::vector<std::string> order_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
};

}  // namespace sluice::ops
