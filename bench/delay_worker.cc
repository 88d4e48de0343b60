// delay_worker: a worker of one stage of a spec running DelayStage (each
// task waits --delay-ms on a timer, then passes its payload on) in the place
// of the stage's own kind, until SIGTERM or SIGINT. What
// io_bound_benchmark.py runs for its builtin variant: the same worker as
// `sluice run`, with a builtin whose tasks wait.
// Exit codes: 0 stopped, 1 runtime failure, 2 bad usage.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "delay_stage.h"
#include "sluice/worker.h"

namespace {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void request_stop(int) { stop_requested.store(true); }

}  // namespace

int main(int argc, char** argv) {
  std::string spec_path, stage, instance;
  int delay_ms = 20;
  CLI::App app{"A worker whose every task waits --delay-ms before passing its payload on"};
  app.add_option("-f,--file", spec_path, "the pipeline spec")->required();
  app.add_option("--stage", stage, "the stage to work for (its own kind is not used)")
      ->required();
  app.add_option("--instance", instance, "the worker's instance name");
  app.add_option("--delay-ms", delay_ms, "how long each task waits")->check(CLI::Range(0, 60000));
  CLI11_PARSE(app, argc, argv);

  auto spec = sluice::topics::load_spec_file(spec_path);
  if (!spec.is_ok()) {
    std::fprintf(stderr, "delay_worker: %s\n", spec.status().message().c_str());
    return 2;
  }
  sluice::WorkerOptions options;
  options.spec = *spec;
  options.stage = stage;
  options.instance = instance;
  options.kafka = sluice::KafkaOptions::from_spec(spec->kafka);
  auto worker = sluice::Worker::create(
      std::move(options),
      std::make_unique<sluice::bench::DelayStage>(std::chrono::milliseconds(delay_ms)));
  if (!worker.is_ok()) {
    std::fprintf(stderr, "delay_worker: %s\n", worker.status().message().c_str());
    return 2;
  }
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  sluice::Status s = (*worker)->run(stop_requested);
  if (!s.is_ok()) {
    std::fprintf(stderr, "delay_worker: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
