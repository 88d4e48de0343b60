// Topic and group names, exactly as README.md's topic table gives them.
#include "sluice/topics/names.h"

#include <algorithm>

namespace sluice::topics {

bool is_valid_name(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), allowed);
}

bool is_reserved_stage_name(std::string_view name) {
  return name == "intake" || name == "done";
}

std::string intake_topic(const std::string& pipeline) { return pipeline + ".intake"; }
std::string done_topic(const std::string& pipeline) { return pipeline + ".done"; }

std::string stage_topic(const std::string& pipeline, const std::string& stage) {
  return pipeline + "." + stage;
}

std::string retry_topic(const std::string& pipeline, const std::string& stage) {
  return stage_topic(pipeline, stage) + ".retry";
}

std::string dlq_topic(const std::string& pipeline, const std::string& stage) {
  return stage_topic(pipeline, stage) + ".dlq";
}

std::string dlq_ledger_topic(const std::string& pipeline, const std::string& stage) {
  return dlq_topic(pipeline, stage) + ".replayed";
}

std::string changelog_topic(const std::string& pipeline, const std::string& stage) {
  return stage_topic(pipeline, stage) + ".changelog";
}

std::string group_id(const std::string& pipeline, const std::string& stage) {
  return "sluice." + pipeline + "." + stage;
}

std::string restore_group_id(const std::string& pipeline, const std::string& stage) {
  return group_id(pipeline, stage) + ".restore";
}

std::string status_group_id(const std::string& pipeline, const std::string& stage) {
  return group_id(pipeline, stage) + ".status";
}

std::string transactional_id(const std::string& pipeline, const std::string& stage,
                             const std::string& instance) {
  return group_id(pipeline, stage) + "." + instance;
}

std::string input_topic(const PipelineSpec& spec, const StageSpec& stage) {
  if (spec.entry_stage().name == stage.name) return intake_topic(spec.pipeline);
  return stage_topic(spec.pipeline, stage.name);
}

std::vector<std::string> output_topics(const PipelineSpec& spec, const StageSpec& stage) {
  if (stage.next.empty()) return {done_topic(spec.pipeline)};
  std::vector<std::string> topics;
  for (const std::string& next : stage.next) topics.push_back(stage_topic(spec.pipeline, next));
  return topics;
}

}  // namespace sluice::topics
