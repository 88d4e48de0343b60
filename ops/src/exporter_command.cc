// `sluice exporter -f SPEC --metrics-addr HOST:PORT [--interval 5s]`: serves
// the pipeline's queue depth, oldest waiting age and workers of every stage
// (exporter.h) until SIGTERM or SIGINT.
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli_support.h"
#include "commands.h"
#include "exporter.h"

namespace sluice::ops {

int exporter_command(const ExporterOptions& options) {
  install_stop_signals();
  auto interval = topics::parse_duration(options.interval);
  if (!interval.is_ok() || interval->count() < 1000) {
    return report(usage_error("--interval: expected a duration of at least 1s (5s, 1m), got '" +
                              options.interval + "'"));
  }
  auto target = load_external_target(options.spec_path, "export");
  if (!target.is_ok()) return report(target.status());
  auto exporter =
      PipelineExporter::start(options.metrics_addr, target->spec, target->kafka, *interval);
  if (!exporter.is_ok()) return report(exporter.status());
  std::fprintf(stderr, "sluice exporter: pipeline %s, %zu stages, /metrics on %s every %s\n",
               target->spec.pipeline.c_str(), target->spec.stages.size(),
               options.metrics_addr.c_str(), options.interval.c_str());
  while (!stop_requested().load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return kExitOk;
}

}  // namespace sluice::ops
