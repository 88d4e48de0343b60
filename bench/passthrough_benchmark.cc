// passthrough_benchmark: one Sluice stage against a plain librdkafka loop.
//
// Against a real broker (--brokers), preloads --records Sluice envelopes into
// <p>.intake, then alternates timed runs of (a) a plain consume-produce loop
// (plain_loop.h) and (b) a sluice::Worker running the builtin `passthrough`,
// each with a fresh consumer group on the same input and the same client
// settings. Each run is timed from client creation until its output topic
// holds every record (timed_run.h). --warmup pairs run first, untimed.
// Prints one line per run on stderr and a Markdown summary (bench_report.h)
// on stdout. Exit codes: 0 ok, 1 runtime failure, 2 bad usage.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "bench_flags.h"
#include "bench_report.h"
#include "bench_session.h"
#include "plain_loop.h"
#include "sluice/stages/registry.h"
#include "sluice/topics/names.h"
#include "stage_worker.h"

namespace sluice::bench {
namespace {

class Benchmark final : public PairedBenchmark {
 public:
  explicit Benchmark(const Flags& flags) : flags_(flags), session_(flags) {}
  Status setup() override;
  // Pair number `run` (1-based): plain, then Sluice. Pairs up to --warmup
  // are run but not reported.
  Status run_pair(int run) override;
  void report() const override { print_report(plain_, sluice_, flags_.records, 0.85); }

 private:
  Status run_plain(int run);
  Status run_sluice(int run);

  const Flags& flags_;
  BenchSession session_;
  std::string plain_output_;
  Series plain_{"plain", {}};
  Series sluice_{"sluice", {}};
};

Status Benchmark::setup() {
  if (Status s = session_.open(""); !s.is_ok()) return s;
  const SetupOptions& setup = session_.setup_options();
  auto plain = make_pipeline(setup, setup.pipeline + "-plain", "loop");
  if (!plain.is_ok()) return plain.status();
  plain_output_ = topics::done_topic(plain->pipeline);
  return session_.preload("pass-1");
}

Status Benchmark::run_pair(int run) {
  if (flags_.only != "sluice") {
    if (Status s = run_plain(run); !s.is_ok()) return s;
  }
  if (flags_.only != "plain") return run_sluice(run);
  return Status::ok();
}

Status Benchmark::run_plain(int run) {
  const std::string& pipeline = session_.setup_options().pipeline;
  PlainLoopOptions loop;
  loop.brokers = flags_.brokers;
  loop.group = pipeline + "-plain-" + std::to_string(run);  // fresh group
  loop.input_topic = topics::intake_topic(pipeline);
  loop.output_topic = plain_output_;
  loop.consumer_properties = session_.consumer_properties();
  return session_.timed(plain_, run, plain_output_,
                        [&](const auto& stop) { return run_plain_loop(loop, stop); });
}

// Variant (b): stage pass-<run> of the same pipeline, builtin passthrough,
// exactly as `sluice run` would run it: the same intake, a fresh group
// (sluice.<p>.pass-<run>), outputs to <p>.done.
Status Benchmark::run_sluice(int run) {
  auto spec = session_.stage_pipeline("pass-" + std::to_string(run));
  if (!spec.is_ok()) return spec.status();
  return session_.timed(sluice_, run, topics::done_topic(spec->pipeline), [&](const auto& stop) {
    auto stage = stages::make_stage(spec->entry_stage());
    if (!stage.is_ok()) return stage.status();
    return run_stage_worker(*spec, std::move(stage).value(),
                            {flags_.max_buffered_tasks, nullptr, {}}, stop);
  });
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  Flags flags;
  int code = parse_flags(argc, argv,
                         "Pass-through throughput: one Sluice stage vs a plain librdkafka loop",
                         &flags, [&](CLI::App& app) {
                           app.add_option("--only", flags.only,
                                          "run one variant only (for profiling)")
                               ->check(CLI::IsMember({"plain", "sluice"}));
                         });
  if (code != 0) return code < 0 ? 0 : code;
  Benchmark benchmark(flags);
  return run_paired("passthrough_benchmark", flags, benchmark);
}
