// state_count_benchmark: a stateful stage against a stateless one.
//
// Against a real broker (--brokers), preloads --records Sluice envelopes into
// <p>.intake once (--keys distinct keys), then alternates timed runs, each
// with a fresh stage name (a fresh consumer group on the same input) of
// (a) builtin passthrough and (b) builtin count with `state: true`: each task
// reads its key's count from the worker's RocksDB, writes it back, and the
// write goes to <p>.<stage>.changelog beside the output, in the same
// acknowledged unit (the engine's state path, worker_state.cc). Each run is
// timed until <p>.done holds every record (timed_run.h); the ratio (b)/(a)
// is what keeping state costs (issue 10's target: at least 0.6x). The stores
// live under --state-dir (a fresh directory per run, removed after it).
// Prints one line per run on stderr and a Markdown summary (bench_report.h)
// on stdout. Exit codes: 0 ok, 1 runtime failure, 2 bad usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "bench_flags.h"
#include "bench_report.h"
#include "bench_session.h"
#include "sluice/stages/registry.h"
#include "sluice/topics/names.h"
#include "stage_worker.h"

namespace sluice::bench {
namespace {

namespace fs = std::filesystem;

class Benchmark final : public PairedBenchmark {
 public:
  Benchmark(const Flags& flags, std::string state_dir)
      : flags_(flags), session_(flags), state_dir_(std::move(state_dir)) {}
  Status setup() override;
  // Pair number `run` (1-based): passthrough, then count.
  Status run_pair(int run) override;
  void report() const override { print_report(stateless_, stateful_, flags_.records, 0.6); }

 private:
  Status run_stage(Series& series, const topics::PipelineSpec& spec, const std::string& dir,
                   int run);

  const Flags& flags_;
  BenchSession session_;
  std::string state_dir_;
  Series stateless_{"passthrough", {}};
  Series stateful_{"count (state)", {}};
};

Status Benchmark::setup() {
  if (Status s = session_.open(""); !s.is_ok()) return s;
  return session_.preload("pass-1");
}

Status Benchmark::run_pair(int run) {
  auto stateless = session_.stage_pipeline("pass-" + std::to_string(run));
  if (!stateless.is_ok()) return stateless.status();
  if (Status s = run_stage(stateless_, *stateless, "", run); !s.is_ok()) return s;
  auto stateful = make_pipeline(session_.setup_options(), session_.setup_options().pipeline,
                                "count-" + std::to_string(run), {"count", true});
  if (!stateful.is_ok()) return stateful.status();
  std::string dir = state_dir_ + "/run-" + std::to_string(run);
  Status s = run_stage(stateful_, *stateful, dir, run);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return s;
}

Status Benchmark::run_stage(Series& series, const topics::PipelineSpec& spec,
                            const std::string& dir, int run) {
  return session_.timed(series, run, topics::done_topic(spec.pipeline), [&](const auto& stop) {
    auto stage = stages::make_stage(spec.entry_stage());
    if (!stage.is_ok()) return stage.status();
    return run_stage_worker(spec, std::move(stage).value(),
                            {flags_.max_buffered_tasks, nullptr, dir}, stop);
  });
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  Flags flags;
  std::string state_dir = "/tmp/sluice-state-benchmark";
  int code = parse_flags(argc, argv,
                         "Stateful throughput: builtin count (state: true) vs passthrough",
                         &flags, [&](CLI::App& app) {
                           app.add_option("--state-dir", state_dir,
                                          "where the count runs keep their stores");
                         });
  if (code != 0) return code < 0 ? 0 : code;
  Benchmark benchmark(flags, state_dir);
  return run_paired("state_count_benchmark", flags, benchmark);
}
