#include "bench_session.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "sluice/topics/names.h"

namespace sluice::bench {

Status BenchSession::open(const std::string& retry) {
  auto properties = parse_properties(flags_.consumer_properties);
  if (!properties.is_ok()) return properties.status();
  consumer_properties_ = *properties;
  setup_ = {flags_.brokers,
            random_pipeline_name(),
            flags_.partitions,
            flags_.concurrency,
            {consumer_properties_.begin(), consumer_properties_.end()},
            retry};
  auto watcher = query_handle(flags_.brokers);
  if (!watcher.is_ok()) return watcher.status();
  watcher_ = std::move(watcher).value();
  return Status::ok();
}

Status BenchSession::preload(const std::string& first_stage) {
  auto first = make_pipeline(setup_, setup_.pipeline, first_stage);
  if (!first.is_ok()) return first.status();
  first_spec_ = std::move(first).value();
  std::fprintf(stderr, "pipeline %s: preloading %lld records into %s\n", setup_.pipeline.c_str(),
               static_cast<long long>(flags_.records),
               topics::intake_topic(setup_.pipeline).c_str());
  return bench::preload(first_spec_, {flags_.records, flags_.payload_bytes, flags_.keys});
}

Result<topics::PipelineSpec> BenchSession::stage_pipeline(const std::string& stage) const {
  if (stage == first_spec_.entry_stage().name) return first_spec_;
  return make_pipeline(setup_, setup_.pipeline, stage);
}

Status BenchSession::timed(Series& series, int run, const std::string& output_topic,
                           const Runner& runner) {
  return record_run(series, run, flags_.warmup, flags_.records,
                    timed_run(watcher_.get(), timed_run_options(flags_, output_topic), runner));
}

int run_paired(const char* program, const Flags& flags, PairedBenchmark& benchmark) {
  spdlog::set_level(spdlog::level::warn);  // the worker's info lines are noise here
  Status status = benchmark.setup();
  for (int run = 1; status.is_ok() && run <= flags.warmup + flags.runs; ++run) {
    status = benchmark.run_pair(run);
  }
  if (!status.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", program, status.message().c_str());
    return status.code() == StatusCode::kUsage ? 2 : 1;
  }
  benchmark.report();
  return 0;
}

}  // namespace sluice::bench
