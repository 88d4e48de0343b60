// Prometheus metrics of a worker process, with the names and labels README.md documents.
//
// MetricsServer owns the registry and the HTTP endpoint (/metrics on
// --metrics-addr). observer(stage) returns the WorkerObserver a worker of that
// stage reports through (task counters and histograms, errors by kind,
// in-flight, paused, circuit).
// A background thread refreshes queue depth and workers per stage from broker
// offsets every few seconds. Create before the workers, destroy after them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sluice/kafka_options.h"
#include "sluice/observer.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {

class MetricsServer {
 public:
  // kUsage when the address cannot be bound (names the address).
  // Series are exported for `stages`, the stages this process runs, so
  // that summing over worker processes counts each task and queue once.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& address,
                                                      const topics::PipelineSpec& spec,
                                                      const KafkaOptions& kafka,
                                                      const std::vector<std::string>& stages);
  virtual ~MetricsServer() = default;
  virtual WorkerObserver* observer(const std::string& stage) = 0;
};

}  // namespace sluice::ops
