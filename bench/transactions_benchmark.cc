// transactions_benchmark: exactly_once against at_least_once, on the same
// 1-stage and 3-stage pipelines, in one invocation.
//
// Against a real broker (--brokers), preloads --records Sluice envelopes into
// <p>.intake once, then per pair runs, in this order: the 1-stage pipeline
// at_least_once, the same exactly_once, the 3-stage pipeline at_least_once,
// the same exactly_once. Every stage is builtin passthrough, with a name
// fresh per run (a fresh consumer group on the same intake, fresh stage
// topics, a fresh transactional.id); each stage runs one sluice::Worker on
// its own thread, as `sluice run` would. A run is timed until a
// read_committed consumer has read every record from <p>.done, and then
// measures end-to-end latency on --paced-records jobs submitted at
// --paced-rate (committed_run.h). Meanwhile the worker loops'
// transactional calls are counted and timed (transaction_probe.h).
// Prints one line per run on stderr and Markdown summaries on stdout.
// Exit codes: 0 ok, 1 runtime failure, 2 bad usage.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>

#include "bench_flags.h"
#include "bench_report.h"
#include "bench_session.h"
#include "committed_run.h"
#include "sluice/admin.h"
#include "sluice/stages/registry.h"
#include "sluice/worker.h"
#include "transaction_probe.h"

namespace sluice::bench {
namespace {

// This benchmark's own flags (WorkerOptions it passes to every worker, and
// the latency phase).
struct TransactionFlags {
  int transaction_interval_ms = 100;     // WorkerOptions' default
  size_t max_transaction_records = 10000;  // WorkerOptions' default
  int64_t paced_records = 5000;
  double paced_rate = 5000;
  std::vector<int> shapes = {1, 3};  // stages per pipeline
};

struct Variant {
  int stages;
  topics::Guarantee guarantee;
  Series series;                   // its timed runs, for the throughput table
  std::vector<CommittedRun> runs;  // the same runs: latency and probe
  const char* prefix() const {
    return guarantee == topics::Guarantee::kExactlyOnce ? "eos" : "alo";
  }
};

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

// Runs the worker of stage `index` of `spec` until `stop`.
Status run_worker(const topics::PipelineSpec& spec, size_t index, const Flags& flags,
                  const TransactionFlags& own, const std::atomic<bool>& stop) {
  register_loop_thread();
  mark_worker_loop();
  const topics::StageSpec& stage_spec = spec.stages[index];
  auto stage = stages::make_stage(stage_spec);
  if (!stage.is_ok()) return stage.status();
  WorkerOptions options;
  options.spec = spec;
  options.spec.stages[index].max_buffered_tasks = static_cast<int>(flags.max_buffered_tasks);
  options.stage = stage_spec.name;
  options.kafka = KafkaOptions::from_spec(spec.kafka);
  options.instance = "0";
  options.transaction_interval = std::chrono::milliseconds(own.transaction_interval_ms);
  options.max_transaction_records = own.max_transaction_records;
  auto worker = Worker::create(std::move(options), std::move(stage).value());
  if (!worker.is_ok()) return worker.status();
  return (*worker)->run(stop);
}

// One worker per stage, each on its own thread, until `stop` or until one
// of them fails (then all stop); returns the first failure.
Status run_pipeline(const topics::PipelineSpec& spec, const Flags& flags,
                    const TransactionFlags& own, const std::atomic<bool>& stop) {
  std::atomic<bool> stop_workers{false};
  std::atomic<int> ended{0};
  std::vector<Status> results(spec.stages.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < spec.stages.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = run_worker(spec, i, flags, own, stop_workers);
      ++ended;
    });
  }
  while (!stop.load() && ended.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop_workers = true;
  for (std::thread& thread : threads) thread.join();
  for (const Status& status : results) {
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

class Benchmark final : public PairedBenchmark {
 public:
  Benchmark(const Flags& flags, const TransactionFlags& own);
  Status setup() override;
  Status run_pair(int run) override;
  void report() const override;

 private:
  Result<topics::PipelineSpec> pipeline(const Variant& variant, int run);
  Status run_variant(Variant& variant, int run);
  void print_details() const;

  const Flags& flags_;
  const TransactionFlags& own_;
  BenchSession session_;
  std::unique_ptr<JobSubmitter> submitter_;  // the paced jobs
  std::vector<Variant> variants_;
};

// Series names must outlive the report: one literal per shape and guarantee.
const char* series_name(int stages, topics::Guarantee guarantee) {
  bool eos = guarantee == topics::Guarantee::kExactlyOnce;
  static const char* const kNames[][2] = {{"1 stage at_least_once", "1 stage exactly_once"},
                                          {"2 stages at_least_once", "2 stages exactly_once"},
                                          {"3 stages at_least_once", "3 stages exactly_once"}};
  return kNames[stages - 1][eos];
}

Benchmark::Benchmark(const Flags& flags, const TransactionFlags& own)
    : flags_(flags), own_(own), session_(flags) {
  for (int stages : own.shapes) {
    for (auto guarantee : {topics::Guarantee::kAtLeastOnce, topics::Guarantee::kExactlyOnce}) {
      bool eos = guarantee == topics::Guarantee::kExactlyOnce;
      if ((flags.only == "at_least_once" && eos) || (flags.only == "exactly_once" && !eos)) {
        continue;
      }
      variants_.push_back({stages, guarantee, {series_name(stages, guarantee), {}}, {}});
    }
  }
}

Status Benchmark::setup() {
  std::fprintf(stderr,
               "exactly_once: transaction_interval %d ms, max_transaction_records %zu; "
               "latency: %lld jobs at %.0f/s\n",
               own_.transaction_interval_ms, own_.max_transaction_records,
               static_cast<long long>(own_.paced_records), own_.paced_rate);
  if (Status s = session_.open(""); !s.is_ok()) return s;
  const Variant& first = variants_.front();
  std::string entry = std::string(first.prefix()) + std::to_string(first.stages) + "-s1-r1";
  if (Status s = session_.preload(entry); !s.is_ok()) return s;
  auto spec = session_.stage_pipeline(entry);
  if (!spec.is_ok()) return spec.status();
  auto submitter = JobSubmitter::create(*spec, KafkaOptions::from_spec(spec->kafka));
  if (!submitter.is_ok()) return submitter.status();
  submitter_ = std::move(submitter).value();
  return Status::ok();
}

// The variant's pipeline for pair `run`: stages <g><n>-s<i>-r<run>, each
// passing on to the next, the last to <p>.done; their topics created.
Result<topics::PipelineSpec> Benchmark::pipeline(const Variant& variant, int run) {
  auto name = [&](int stage) {
    return variant.prefix() + std::to_string(variant.stages) + "-s" + std::to_string(stage) +
           "-r" + std::to_string(run);
  };
  auto spec = session_.stage_pipeline(name(1));
  if (!spec.is_ok()) return spec.status();
  topics::StageSpec first = spec->stages.front();
  spec->stages.clear();
  for (int i = 1; i <= variant.stages; ++i) {
    topics::StageSpec stage = first;
    stage.name = name(i);
    stage.guarantee = variant.guarantee;
    if (i < variant.stages) stage.next = {name(i + 1)};
    spec->stages.push_back(stage);
  }
  if (variant.stages == 1) return spec;
  auto applied = apply_topics(*spec, KafkaOptions::from_spec(spec->kafka));
  if (!applied.is_ok()) return applied.status();
  if (!applied->differences.empty()) {
    return fatal_error("topics of " + spec->pipeline + " differ: " + applied->differences.front());
  }
  return spec;
}

Status Benchmark::run_pair(int run) {
  for (Variant& variant : variants_) {
    if (Status s = run_variant(variant, run); !s.is_ok()) return s;
  }
  return Status::ok();
}

Status Benchmark::run_variant(Variant& variant, int run) {
  auto spec = pipeline(variant, run);
  if (!spec.is_ok()) return spec.status();
  CommittedRunOptions options{flags_.brokers,   flags_.partitions,
                              flags_.records,   own_.paced_records,
                              own_.paced_rate,  flags_.keys,
                              flags_.payload_bytes, std::chrono::seconds(flags_.timeout_s)};
  auto result = committed_run(*spec, session_.watcher(), *submitter_, options,
                              [&](const auto& stop) {
                                return run_pipeline(*spec, flags_, own_, stop);
                              });
  Result<RunTiming> timing =
      result.is_ok() ? Result<RunTiming>(result->timing) : Result<RunTiming>(result.status());
  if (Status s = record_run(variant.series, run, flags_.warmup, flags_.records, timing);
      !s.is_ok()) {
    return s;
  }
  const ProbeCounts& p = result->probe;
  double seconds = result->seconds;
  std::fprintf(stderr,
               "  %s: backlog %lld records; end-to-end p50 %.0f ms, p99 %.0f ms, max %.0f ms; %lld transactions "
               "(%.1f/s per worker), %lld aborted; loops blocked %.1f%% (flush %.2f s, "
               "send_offsets %.2f s, commit %.2f s)\n",
               variant.series.name, static_cast<long long>(result->backlog),
               percentile(result->latency_ms, 0.5),
               percentile(result->latency_ms, 0.99), percentile(result->latency_ms, 1.0),
               static_cast<long long>(p.commits), p.commits / seconds / variant.stages,
               static_cast<long long>(p.aborts),
               100 * p.blocked_seconds() / (seconds * variant.stages), p.flush_seconds,
               p.send_offsets_seconds, p.commit_seconds);
  if (run > flags_.warmup) variant.runs.push_back(std::move(result).value());
  return Status::ok();
}

void Benchmark::report() const {
  std::printf("P=%d, concurrency %d, %lld records of %zu B payload; exactly_once: "
              "transaction_interval %d ms, max_transaction_records %zu\n",
              flags_.partitions, flags_.concurrency, static_cast<long long>(flags_.records),
              flags_.payload_bytes, own_.transaction_interval_ms, own_.max_transaction_records);
  const Series none{"-", {}};
  for (int stages : own_.shapes) {
    const Series* base = &none;
    const Series* variant = &none;
    for (const Variant& v : variants_) {
      if (v.stages != stages) continue;
      (v.guarantee == topics::Guarantee::kExactlyOnce ? variant : base) = &v.series;
    }
    std::printf("\n");
    print_report(*base, *variant, flags_.records, 0.7);
  }
  print_details();
}

// Per variant: latency of the paced jobs, and what the transactions cost
// during the backlog (medians over runs; per run in the stderr lines).
void Benchmark::print_details() const {
  std::printf("\n| variant | end-to-end p50, ms | p99, ms (median) | p99 min | p99 max | "
              "transactions/s per worker | records per transaction | commit call, ms | "
              "loop blocked in flush + send_offsets + commit |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const Variant& v : variants_) {
    if (v.runs.empty()) continue;
    std::vector<double> p50, p99, rate, per_txn, commit_ms, blocked;
    for (const CommittedRun& r : v.runs) {
      const ProbeCounts& p = r.probe;
      p50.push_back(percentile(r.latency_ms, 0.5));
      p99.push_back(percentile(r.latency_ms, 0.99));
      rate.push_back(p.commits / r.seconds / v.stages);
      per_txn.push_back(p.commits ? double(r.backlog) * v.stages / p.commits : 0);
      commit_ms.push_back(p.commits ? 1000 * p.commit_seconds / p.commits : 0);
      blocked.push_back(100 * p.blocked_seconds() / (r.seconds * v.stages));
    }
    Summary tail = summarize(p99);
    std::printf("| %s | %.0f | %.0f | %.0f | %.0f | %.1f | %.0f | %.1f | %.1f%% |\n",
                v.series.name, summarize(p50).median, tail.median, tail.min, tail.max,
                summarize(rate).median, summarize(per_txn).median, summarize(commit_ms).median,
                summarize(blocked).median);
  }
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  Flags flags;
  TransactionFlags own;
  int code = parse_flags(
      argc, argv, "exactly_once vs at_least_once: 1-stage and 3-stage passthrough pipelines",
      &flags, [&](CLI::App& app) {
        app.add_option("--transaction-interval", own.transaction_interval_ms,
                       "WorkerOptions::transaction_interval, ms")
            ->check(CLI::Range(1, 60000));
        app.add_option("--max-transaction-records", own.max_transaction_records,
                       "WorkerOptions::max_transaction_records")
            ->check(CLI::Range(size_t{1}, size_t{100000000}));
        app.add_option("--paced-records", own.paced_records, "jobs of the latency phase")
            ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
        app.add_option("--paced-rate", own.paced_rate, "their submissions a second")
            ->check(CLI::Range(1.0, 1e7));
        app.add_option("--stages", own.shapes, "pipeline lengths to run (1 3)")
            ->check(CLI::Range(1, 3));
        app.add_option("--only", flags.only, "one guarantee only (for profiling)")
            ->check(CLI::IsMember({"at_least_once", "exactly_once"}));
      });
  if (code != 0) return code < 0 ? 0 : code;
  Benchmark benchmark(flags, own);
  return run_paired("transactions_benchmark", flags, benchmark);
}
