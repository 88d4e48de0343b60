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
#include <spdlog/spdlog.h>

#include <cstdio>

#include "bench_flags.h"
#include "bench_kafka.h"
#include "bench_report.h"
#include "bench_setup.h"
#include "plain_loop.h"
#include "sluice/stages/registry.h"
#include "sluice/topics/names.h"
#include "sluice/worker.h"
#include "timed_run.h"

namespace sluice::bench {
namespace {

int fail(const Status& status) {
  std::fprintf(stderr, "passthrough_benchmark: %s\n", status.message().c_str());
  return status.code() == StatusCode::kUsage ? 2 : 1;
}

// Variant (b): the stage exactly as `sluice run` would run it.
Status run_sluice_stage(const topics::PipelineSpec& spec, size_t max_buffered_tasks,
                        const std::atomic<bool>& stop) {
  const topics::StageSpec& stage = spec.entry_stage();
  auto made = stages::make_stage(stage);
  if (!made.is_ok()) return made.status();
  WorkerOptions options;
  options.spec = spec;
  options.stage = stage.name;
  options.kafka = KafkaOptions::from_spec(spec.kafka);
  options.max_buffered_tasks = max_buffered_tasks;
  auto worker = Worker::create(std::move(options), std::move(made).value());
  if (!worker.is_ok()) return worker.status();
  return (*worker)->run(stop);
}

class Benchmark {
 public:
  explicit Benchmark(const Flags& flags) : flags_(flags) {}
  Status setup();
  // Pair number `run` (1-based): plain, then Sluice. Pairs up to --warmup
  // are run but not reported.
  Status run_pair(int run);
  void report() const { print_report(plain_, sluice_, flags_.records); }

 private:
  Status run_plain(int run);
  Status run_sluice(int run);
  TimedRunOptions timed(const std::string& output_topic) const;
  Status record(Series& series, int run, Result<RunTiming> timing);
  std::string label(int run) const;

  const Flags& flags_;
  Settings consumer_properties_;
  SetupOptions setup_;
  topics::PipelineSpec first_spec_;  // stage pass-1, used by pair 1
  std::string plain_output_;
  Handle watcher_;
  Series plain_{"plain", {}};
  Series sluice_{"sluice", {}};
};

Status Benchmark::setup() {
  auto properties = parse_properties(flags_.consumer_properties);
  if (!properties.is_ok()) return properties.status();
  consumer_properties_ = *properties;
  setup_ = {flags_.brokers,
            random_pipeline_name(),
            flags_.partitions,
            flags_.concurrency,
            {consumer_properties_.begin(), consumer_properties_.end()}};
  auto watcher = query_handle(flags_.brokers);
  if (!watcher.is_ok()) return watcher.status();
  watcher_ = std::move(watcher).value();
  auto first = make_pipeline(setup_, setup_.pipeline, "pass-1");
  if (!first.is_ok()) return first.status();
  first_spec_ = std::move(first).value();
  auto plain = make_pipeline(setup_, setup_.pipeline + "-plain", "loop");
  if (!plain.is_ok()) return plain.status();
  plain_output_ = topics::done_topic(plain->pipeline);
  std::fprintf(stderr, "pipeline %s: preloading %lld records into %s\n", setup_.pipeline.c_str(),
               static_cast<long long>(flags_.records),
               topics::intake_topic(setup_.pipeline).c_str());
  return preload(first_spec_, {flags_.records, flags_.payload_bytes, flags_.keys});
}

Status Benchmark::run_pair(int run) {
  if (flags_.only != "sluice") {
    if (Status s = run_plain(run); !s.is_ok()) return s;
  }
  if (flags_.only != "plain") return run_sluice(run);
  return Status::ok();
}

Status Benchmark::run_plain(int run) {
  PlainLoopOptions loop;
  loop.brokers = flags_.brokers;
  loop.group = setup_.pipeline + "-plain-" + std::to_string(run);  // fresh group
  loop.input_topic = topics::intake_topic(setup_.pipeline);
  loop.output_topic = plain_output_;
  loop.consumer_properties = consumer_properties_;
  return record(plain_, run, timed_run(watcher_.get(), timed(plain_output_), [&](const auto& stop) {
                  return run_plain_loop(loop, stop);
                }));
}

// Stage pass-<run> of the same pipeline: the same intake, a fresh group
// (sluice.<p>.pass-<run>), outputs to <p>.done.
Status Benchmark::run_sluice(int run) {
  auto spec = run == 1 ? Result<topics::PipelineSpec>(first_spec_)
                       : make_pipeline(setup_, setup_.pipeline, "pass-" + std::to_string(run));
  if (!spec.is_ok()) return spec.status();
  return record(
      sluice_, run,
      timed_run(watcher_.get(), timed(topics::done_topic(setup_.pipeline)), [&](const auto& stop) {
        return run_sluice_stage(*spec, flags_.max_buffered_tasks, stop);
      }));
}

TimedRunOptions Benchmark::timed(const std::string& output_topic) const {
  TimedRunOptions options;
  options.output_topic = output_topic;
  options.partitions = flags_.partitions;
  options.records = flags_.records;
  options.timeout = std::chrono::seconds(flags_.timeout_s);
  return options;
}

Status Benchmark::record(Series& series, int run, Result<RunTiming> timing) {
  if (!timing.is_ok()) {
    return Status(timing.status().code(),
                  std::string(series.name) + " " + label(run) + ": " + timing.status().message());
  }
  const RunTiming& t = *timing;
  std::fprintf(stderr,
               "%s %-6s: %.0f records/s (%.2f s; first output after %.2f s; "
               "%.2f us CPU/record, %.2f of it the loop thread's; %lld extra records)\n",
               label(run).c_str(), series.name, t.records_per_second(flags_.records), t.seconds,
               t.first_output_seconds, t.cpu_seconds * 1e6 / flags_.records,
               t.loop_cpu_seconds * 1e6 / flags_.records,
               static_cast<long long>(t.extra_records));
  if (run > flags_.warmup) series.runs.push_back(t);
  return Status::ok();
}

std::string Benchmark::label(int run) const {
  if (run <= flags_.warmup) return "warm-up " + std::to_string(run);
  return "run " + std::to_string(run - flags_.warmup);
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  Flags flags;
  if (int code = parse_flags(argc, argv, &flags); code != 0) return code < 0 ? 0 : code;
  spdlog::set_level(spdlog::level::warn);  // the worker's info lines are noise here
  Benchmark benchmark(flags);
  if (sluice::Status s = benchmark.setup(); !s.is_ok()) return fail(s);
  for (int run = 1; run <= flags.warmup + flags.runs; ++run) {
    if (sluice::Status s = benchmark.run_pair(run); !s.is_ok()) return fail(s);
  }
  benchmark.report();
  return 0;
}
