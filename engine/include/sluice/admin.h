// Topic provisioning: `sluice topics apply`.
//
// Creates every topic a pipeline needs (intake, one per non-entry stage,
// retry and dlq per stage, changelog per stateful stage, done) that is
// missing, with the spec's partitions and replication. Never deletes or
// alters: topics that exist with other settings are reported as differences.
// Blocking; call from any one thread.
#pragma once

#include <string>
#include <vector>

#include "sluice/kafka_options.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice {

struct TopicPlan {
  std::string name;
  int partitions = 1;
  int replication = 1;
  bool compacted = false;  // changelogs
};

// Every topic the pipeline uses, with the settings the spec asks for.
std::vector<TopicPlan> plan_topics(const topics::PipelineSpec& spec);

struct ApplyReport {
  std::vector<std::string> created;
  std::vector<std::string> unchanged;
  // "articles.fetch: has 3 partitions, spec asks for 6 (left as is)"
  std::vector<std::string> differences;
};

Result<ApplyReport> apply_topics(const topics::PipelineSpec& spec,
                                 const KafkaOptions& kafka);

}  // namespace sluice
