// failure_benchmark: one Sluice stage with and without failing tasks.
//
// Against a real broker (--brokers), preloads --records Sluice envelopes into
// <p>.intake once, then alternates timed runs of the same one-stage pipeline
// (a fresh stage name, so a fresh consumer group, per run) with (a) a
// FlakyStage that fails nothing and (b) the same stage failing
// --fail-percent of the jobs on their first attempt (flaky_stage.h): those
// go through the stage's retry (--retry-mode, `retry: {backoff: B,
// max_backoff: B}` with B = --backoff) and pass on attempt 2. Each run is
// timed until <p>.done holds every record (timed_run.h); the ratio (b)/(a)
// is the cost of the failures. Prints one line per run on stderr and a
// Markdown summary (bench_report.h) plus the failure figures on stdout.
// Exit codes: 0 ok, 1 runtime failure, 2 bad usage.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "bench_flags.h"
#include "bench_kafka.h"
#include "bench_report.h"
#include "bench_session.h"
#include "flaky_stage.h"
#include "sluice/topics/names.h"
#include "stage_worker.h"

namespace sluice::bench {
namespace {

// What the worker said of a run: retried attempts, flow-control pauses.
class CountingObserver final : public WorkerObserver {
 public:
  void task_ended(TaskResult result, double, double) override {
    if (result == TaskResult::kRetried) ++retried;
  }
  void paused_changed(bool paused) override {
    if (paused) ++flow_pauses;
  }
  int64_t retried = 0;
  int64_t flow_pauses = 0;
};

// One failing run's figures, beyond its timing.
struct FailureFigures {
  FlakyCounts counts;
  CountingObserver observer;
  int64_t retry_records = 0;  // records produced to the retry topic
};

class Benchmark final : public PairedBenchmark {
 public:
  explicit Benchmark(const Flags& flags) : flags_(flags), session_(flags) {}
  Status setup() override;
  // Pair number `run` (1-based): no failures, then failures. Pairs up to
  // --warmup are run but not reported.
  Status run_pair(int run) override;
  void report() const override;

 private:
  Status run_stage(Series& series, int run, int fail_percent, FailureFigures* figures);
  std::string retry_setting() const;
  void print_figures(const std::string& label, const FailureFigures& figures) const;

  const Flags& flags_;
  BenchSession session_;
  Series passing_{"no failures", {}};
  Series failing_{"failures", {}};
  FlakyCounts failing_totals_;  // the timed failing runs' counts, summed
};

std::string Benchmark::retry_setting() const {
  std::string backoff = std::to_string(flags_.backoff_ms) + "ms";
  return "{backoff: " + backoff + ", max_backoff: " + backoff + "}";
}

Status Benchmark::setup() {
  std::fprintf(stderr, "retry: %s, mode %s; %d%% of the jobs fail their first attempt\n",
               retry_setting().c_str(), flags_.retry_mode.c_str(), flags_.fail_percent);
  if (Status s = session_.open(retry_setting()); !s.is_ok()) return s;
  return session_.preload("pass-1");
}

Status Benchmark::run_pair(int run) {
  if (flags_.only != "fail") {
    FailureFigures passing;
    if (Status s = run_stage(passing_, run, 0, &passing); !s.is_ok()) return s;
  }
  if (flags_.only == "pass") return Status::ok();
  FailureFigures failing;
  if (Status s = run_stage(failing_, run, flags_.fail_percent, &failing); !s.is_ok()) return s;
  print_figures(run_label(run, flags_.warmup), failing);
  if (run > flags_.warmup) {
    failing_totals_.first_attempts += failing.counts.first_attempts;
    failing_totals_.failed += failing.counts.failed;
  }
  return Status::ok();
}

// Stage pass-<run> or fail-<run> of the same pipeline: the same intake, a
// fresh group, outputs to <p>.done.
Status Benchmark::run_stage(Series& series, int run, int fail_percent, FailureFigures* figures) {
  auto spec = session_.stage_pipeline((fail_percent ? "fail-" : "pass-") + std::to_string(run));
  if (!spec.is_ok()) return spec.status();
  // The session writes one spec text for both benchmarks: the mode is set on the parsed spec.
  if (flags_.retry_mode == "in_place") spec->stages[0].retry.mode = topics::RetryMode::kInPlace;
  Status timed = session_.timed(series, run, topics::done_topic(spec->pipeline),
                                [&](const auto& stop) {
                                  return run_stage_worker(
                                      *spec,
                                      std::make_unique<FlakyStage>(fail_percent, &figures->counts),
                                      {flags_.max_buffered_tasks, &figures->observer, {}}, stop);
                                });
  if (!timed.is_ok()) return timed;
  // The stage name is new, so is its retry topic: all of it is this run's.
  // (Asked after the run: right after creation its leader may not be known.)
  auto retry_records = sum_high_watermarks(
      session_.watcher(), topics::retry_topic(spec->pipeline, spec->stages[0].name),
      flags_.partitions);
  if (!retry_records.is_ok()) return retry_records.status();
  figures->retry_records = *retry_records;
  return Status::ok();
}

// The failing run's line: how many failed, how long their retries waited,
// how long the run went on after the last first attempt.
void Benchmark::print_figures(const std::string& label, const FailureFigures& figures) const {
  const FlakyCounts& c = figures.counts;
  Summary wait = c.retry_waits_ms.empty() ? Summary{0, 0, 0} : summarize(c.retry_waits_ms);
  double tail_ms = c.last_later_attempt > c.last_first_attempt
                       ? std::chrono::duration<double, std::milli>(c.last_later_attempt -
                                                                   c.last_first_attempt)
                             .count()
                       : 0;
  std::fprintf(stderr,
               "%s failed: %lld of %lld first attempts (%.2f%%); %lld retried by the worker, "
               "%lld retry records produced, %lld later attempts run; failure to next "
               "attempt (%zu sampled jobs): median %.0f ms, min %.0f, max %.0f; last retry ran "
               "%.0f ms after "
               "the last first attempt; %lld flow-control pauses\n",
               label.c_str(), static_cast<long long>(c.failed),
               static_cast<long long>(c.first_attempts),
               c.first_attempts ? 100.0 * c.failed / c.first_attempts : 0.0,
               static_cast<long long>(figures.observer.retried),
               static_cast<long long>(figures.retry_records),
               static_cast<long long>(c.later_attempts), c.retry_waits_ms.size(), wait.median,
               wait.min, wait.max,
               tail_ms, static_cast<long long>(figures.observer.flow_pauses));
}

void Benchmark::report() const {
  std::printf("retry: %s, retry.mode %s, concurrency %d\n\n", retry_setting().c_str(),
              flags_.retry_mode.c_str(), flags_.concurrency);
  print_report(passing_, failing_, flags_.records, 0.9);
  const FlakyCounts& t = failing_totals_;
  std::printf("failure rate seen (timed failing runs): %lld of %lld first attempts, %.2f%% "
              "(asked: %d%%)\n",
              static_cast<long long>(t.failed), static_cast<long long>(t.first_attempts),
              t.first_attempts ? 100.0 * t.failed / t.first_attempts : 0.0, flags_.fail_percent);
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  Flags flags;
  int code = parse_flags(
      argc, argv, "Failure cost: one Sluice stage with a share of tasks failing once, vs none",
      &flags, [&](CLI::App& app) {
        app.add_option("--fail-percent", flags.fail_percent,
                       "percent of the jobs whose first attempt fails")
            ->check(CLI::Range(0, 100));
        app.add_option("--retry-mode", flags.retry_mode, "the stage's retry.mode")
            ->check(CLI::IsMember({"topic", "in_place"}));
        app.add_option("--backoff", flags.backoff_ms,
                       "retry.backoff and retry.max_backoff, in ms")
            ->check(CLI::Range(0, 3600000));
        app.add_option("--only", flags.only, "run one variant only (for profiling)")
            ->check(CLI::IsMember({"pass", "fail"}));
      });
  if (code != 0) return code < 0 ? 0 : code;
  Benchmark benchmark(flags);
  return run_paired("failure_benchmark", flags, benchmark);
}
