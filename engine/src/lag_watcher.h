// LagWatcher: a worker's thread beside its loop for what needs the broker
// every kWorkerReportInterval and must never block the loop:
//  - the backpressure gate: it reads the queue depth of each stage in
//    `next` (LagMonitor) and shuts while one of them is full
//    (BackpressureGate); the loop pauses its input and retry partitions
//    while it is shut;
//  - the worker's report to `sluice status` (worker_report.h), for the input
//    partitions the loop says it owns.
// A reading that fails keeps the gate as it was; after kForgetAfter without
// one, the gate opens (a worker that cannot see its downstream stages runs
// on, bounded by its own memory bounds, rather than stalling for good).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backpressure_gate.h"
#include "lag_monitor.h"
#include "task_rate.h"
#include "sluice/topics/spec.h"

namespace sluice::engine {

class LagWatcher {
 public:
  static constexpr std::chrono::seconds kForgetAfter{30};

  struct Gate {
    bool shut = false;
    std::string cause;  // the full stage
    std::string why;    // BackpressureGate::why()
    // While open: records the loop may take in until the next reading
    // (BackpressureGate::room()), and the stage with the least room.
    int64_t room = INT64_MAX;
    std::string tightest;
  };

  // Connects (fails when the broker is unreachable) and starts the thread.
  static Result<std::unique_ptr<LagWatcher>> start(const KafkaOptions& kafka,
                                                   const topics::PipelineSpec& spec,
                                                   const topics::StageSpec& stage);
  LagWatcher(std::unique_ptr<LagMonitor> monitor, std::vector<DownstreamStage> downstream,
             std::string status_group, std::string input_topic);
  ~LagWatcher();  // stops and joins the thread

  // Bumped with each reading (and when the gate opens for want of one).
  uint64_t gate_version() const { return gate_version_.load(std::memory_order_acquire); }
  Gate gate() const;

  // From the loop: the input partitions it owns; when it last made progress.
  void set_partitions(std::vector<int32_t> partitions);
  void set_progress(int64_t unix_ms) { progress_unix_ms_.store(unix_ms, std::memory_order_relaxed); }
  // From the loop: tasks ended so far (for the report's rate).
  void set_tasks_ended(uint64_t count) { tasks_ended_.store(count, std::memory_order_relaxed); }
  // From the loop: it spent the room the next stages left, now or before
  // the last reading, and takes in only what they drain.
  void set_held_back(bool held) { held_back_.store(held, std::memory_order_relaxed); }

 private:
  void run();
  void read_downstream();
  // round: a report of the interval, which samples the rate; else an extra
  // one (the partitions changed), which does not.
  void send_report(bool round);

  std::unique_ptr<LagMonitor> monitor_;
  BackpressureGate gate_logic_;  // the thread's only
  bool watches_downstream_;
  std::string status_group_;
  std::string input_topic_;
  std::chrono::steady_clock::time_point last_reading_;
  std::chrono::steady_clock::time_point next_warning_{};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool report_now_ = false;  // set_partitions()'s
  Gate gate_;
  std::vector<int32_t> partitions_;
  std::atomic<uint64_t> gate_version_{0};
  std::atomic<int64_t> progress_unix_ms_{0};
  std::atomic<bool> held_back_{false};
  std::atomic<uint64_t> tasks_ended_{0};
  // The thread's: the smoothed rate of tasks ended, and the last sample.
  TaskRate tasks_per_second_;
  uint64_t ended_at_last_report_ = 0;
  std::chrono::steady_clock::time_point last_report_{};
  std::thread thread_;
};

}  // namespace sluice::engine
