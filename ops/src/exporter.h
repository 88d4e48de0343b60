// PipelineExporter: what `sluice exporter` serves on /metrics: every stage's
// queue depth, oldest waiting age and workers, whether or not any worker
// runs (a stage with no workers still shows its queue growing), read from
// the broker by an Inspector every `interval`; plus the records written to
// the pipeline's intake and done topics and the stages' SLOs (the spec's
// `slo`), which ops/prometheus's rules compare against. Names and labels as
// README.md's metrics table documents.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "sluice/kafka_options.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {

class PipelineExporter {
 public:
  // Reads once before it serves, so that its first scrape has data; fails
  // when the broker cannot be read or `address` bound (naming which).
  static Result<std::unique_ptr<PipelineExporter>> start(const std::string& address,
                                                         const topics::PipelineSpec& spec,
                                                         const KafkaOptions& kafka,
                                                         std::chrono::milliseconds interval);
  virtual ~PipelineExporter() = default;
};

}  // namespace sluice::ops
