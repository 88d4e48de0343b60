// Topic provisioning: `sluice topics apply`.
//
// Creates every topic a pipeline needs (intake, one per non-entry stage,
// retry, dlq and dlq replay ledger per stage, changelog per stateful stage, done) that is
// missing, with the spec's partitions and replication. Never deletes or
// alters: topics that exist with other settings are reported as differences.
// Blocking; call from any one thread. Returns only once the created topics
// are listed in the cluster's metadata, so a worker started right after
// finds them. Not for the embedded broker, which has no CreateTopics: use
// EmbeddedBroker::create_topics there.
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
  bool compacted = false;  // changelogs, dlq replay ledgers
};

// Every topic the pipeline uses, with the settings the spec asks for.
std::vector<TopicPlan> plan_topics(const topics::PipelineSpec& spec);

struct ApplyReport {
  std::vector<std::string> created;
  // Topics that already existed with the spec's settings.
  std::vector<std::string> unchanged;
  // Topics that already existed with other settings; they are left as is.
  std::vector<std::string> differing;
  // One line per differing setting of those (partition count or replication;
  // other configs are not compared):
  // "articles.fetch: partitions: spec 6, broker 3 (left as is)"
  std::vector<std::string> differences;
};

// Errors, one line each: an unreachable broker is kTransient "cannot reach
// Kafka at HOST:PORT within Ns: ..." (within kafka.connect_timeout); a topic
// the broker refuses to create is "create topic NAME: <error> (<broker's
// detail>)", plus "; N more could not be created either". Topics created
// before a failure stay; running apply again creates the rest.
Result<ApplyReport> apply_topics(const topics::PipelineSpec& spec,
                                 const KafkaOptions& kafka);

}  // namespace sluice
