// Topic and consumer-group names: the contract in DESIGN.md, in one place.
//
// Pure functions of the pipeline and stage names; nothing here talks to Kafka.
#pragma once

#include <string>
#include <vector>

#include "sluice/topics/spec.h"

namespace sluice::topics {

std::string intake_topic(const std::string& pipeline);
std::string done_topic(const std::string& pipeline);
std::string stage_topic(const std::string& pipeline, const std::string& stage);
std::string retry_topic(const std::string& pipeline, const std::string& stage);
std::string dlq_topic(const std::string& pipeline, const std::string& stage);
std::string changelog_topic(const std::string& pipeline, const std::string& stage);
std::string group_id(const std::string& pipeline, const std::string& stage);

// The topic a stage consumes: <p>.intake for the entry stage, else <p>.<stage>.
std::string input_topic(const PipelineSpec& spec, const StageSpec& stage);

// Where a stage's outputs go when it names `to` (or, empty, every next stage).
std::vector<std::string> output_topics(const PipelineSpec& spec,
                                       const StageSpec& stage);

// Mirrored into Kafka record headers so kcat and friends can see them.
inline constexpr const char* kJobIdHeader = "sluice-job-id";
inline constexpr const char* kTaskIdHeader = "sluice-task-id";

}  // namespace sluice::topics
