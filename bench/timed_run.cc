#include "timed_run.h"

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <thread>

#include "bench_kafka.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;

// User + system CPU of the whole process: the variant's thread and
// librdkafka's, plus the watermark polling (the same for every variant).
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU of one thread of this process, by its pthread handle.
double thread_cpu_seconds(pthread_t thread) {
  clockid_t clock;
  timespec now{};
  if (pthread_getcpuclockid(thread, &clock) != 0 || clock_gettime(clock, &now) != 0) return 0;
  return now.tv_sec + now.tv_nsec / 1e9;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Watch {
  rd_kafka_t* watcher;
  const TimedRunOptions& options;
  int64_t baseline;  // output records before the run
  Clock::time_point started;
  double cpu_at_start;
  pthread_t runner;  // its CPU clock starts with it
  const std::atomic<bool>& runner_ended;
};

// Polls the output watermarks until they show every record, the runner ends
// early (it failed) or the timeout passes. Fills the timings and CPU.
Status wait_for_output(const Watch& watch, RunTiming* timing) {
  const int64_t target = watch.baseline + watch.options.records;
  bool seen_first = false;
  while (true) {
    auto sum =
        sum_high_watermarks(watch.watcher, watch.options.output_topic, watch.options.partitions);
    if (!sum.is_ok()) return sum.status();
    if (!seen_first && *sum > watch.baseline) {
      seen_first = true;
      timing->first_output_seconds = seconds_since(watch.started);
    }
    if (*sum >= target) {
      timing->seconds = seconds_since(watch.started);
      timing->cpu_seconds = process_cpu_seconds() - watch.cpu_at_start;
      timing->loop_cpu_seconds = thread_cpu_seconds(watch.runner);
      return Status::ok();
    }
    if (watch.runner_ended.load()) {
      return fatal_error("the variant stopped after " + std::to_string(*sum - watch.baseline) +
                         " of " + std::to_string(watch.options.records) + " records");
    }
    if (Clock::now() - watch.started > watch.options.timeout) {
      return fatal_error("timed out: " + std::to_string(*sum - watch.baseline) + " of " +
                         std::to_string(watch.options.records) + " records in " +
                         watch.options.output_topic);
    }
    std::this_thread::sleep_for(watch.options.poll_interval);
  }
}

}  // namespace

Result<RunTiming> timed_run(rd_kafka_t* watcher, const TimedRunOptions& options,
                            const Runner& runner) {
  auto baseline = sum_high_watermarks(watcher, options.output_topic, options.partitions);
  if (!baseline.is_ok()) return baseline.status();
  std::atomic<bool> stop{false};
  std::atomic<bool> ended{false};
  Status ran;
  RunTiming timing;
  double cpu_at_start = process_cpu_seconds();
  Clock::time_point started = Clock::now();
  std::thread thread([&] {
    ran = runner(stop);
    ended = true;
  });
  Status waited =
      wait_for_output({watcher, options, *baseline, started, cpu_at_start,
                       thread.native_handle(), ended},
                      &timing);
  stop = true;
  thread.join();
  if (!ran.is_ok()) return ran;
  if (!waited.is_ok()) return waited;
  auto after = sum_high_watermarks(watcher, options.output_topic, options.partitions);
  if (!after.is_ok()) return after.status();
  timing.extra_records = *after - *baseline - options.records;
  return timing;
}

}  // namespace sluice::bench
