#include "demo_progress.h"

#include <chrono>
#include <cstdio>
#include <thread>

namespace sluice::ops {

DemoProgress::DemoProgress(const topics::PipelineSpec& spec) {
  for (const topics::StageSpec& stage : spec.stages) {
    order_.push_back(stage.name);
    counters_.emplace(stage.name, std::make_unique<Counter>());
  }
}

WorkerObserver* DemoProgress::observer(const std::string& stage) {
  return counters_.at(stage).get();
}

void DemoProgress::show_until_done(long jobs, const std::atomic<bool>& stop) {
  auto started = std::chrono::steady_clock::now();
  const Counter& last = *counters_.at(order_.back());
  while (true) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    print_line(seconds);
    if (last.ok + last.dead >= jobs || stop.load() || seconds > 120) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // display refresh
  }
}

std::optional<std::chrono::steady_clock::time_point> DemoProgress::first_done() const {
  int64_t ns = counters_.at(order_.back())->first_ok_ns.load();
  if (ns == 0) return std::nullopt;
  return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns));
}

void DemoProgress::print_line(double seconds) {
  std::printf("%6.1fs ", seconds);
  for (const std::string& stage : order_) {
    const Counter& c = *counters_.at(stage);
    std::printf(" | %s %ld ok", stage.c_str(), c.ok.load());
    if (c.retried + c.dead > 0) std::printf(" %ld retried %ld dead", c.retried.load(), c.dead.load());
  }
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace sluice::ops
