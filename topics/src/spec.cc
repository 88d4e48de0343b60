// The lookups on a validated PipelineSpec.
#include "sluice/topics/spec.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "sluice/topics/suggest.h"
#include "spec_field.h"

namespace sluice::topics {

const StageSpec& PipelineSpec::entry_stage() const {
  auto named_by_some_next = [this](const StageSpec& candidate) {
    return std::any_of(stages.begin(), stages.end(), [&](const StageSpec& s) {
      return std::find(s.next.begin(), s.next.end(), candidate.name) != s.next.end();
    });
  };
  auto it = std::find_if_not(stages.begin(), stages.end(), named_by_some_next);
  SLUICE_CHECK(it != stages.end(), "pipeline '" + pipeline + "' has no entry stage");
  return *it;
}

const StageSpec* PipelineSpec::find_stage(const std::string& name) const {
  auto it = std::find_if(stages.begin(), stages.end(),
                         [&](const StageSpec& s) { return s.name == name; });
  return it == stages.end() ? nullptr : &*it;
}

Result<const StageSpec*> PipelineSpec::require_stage(const std::string& name) const {
  if (const StageSpec* stage = find_stage(name)) return stage;
  return usage_error(file + ": no stage named '" + name + "'" + stage_hint(name));
}

std::string PipelineSpec::stage_hint(const std::string& name) const {
  std::vector<std::string_view> names;
  for (const StageSpec& s : stages) names.push_back(s.name);
  return did_you_mean(name, names);
}

Status stage_field_error(const PipelineSpec& spec, const StageSpec& stage,
                         const std::string& field, const std::string& what) {
  auto it = std::find_if(spec.stages.begin(), spec.stages.end(),
                         [&](const StageSpec& s) { return &s == &stage; });
  SLUICE_CHECK(it != spec.stages.end(), "stage " + stage.name + " is not one of the spec's");
  size_t index = it - spec.stages.begin();
  auto key = stage.key_lines.find(field);
  if (key == stage.key_lines.end()) key = stage.key_lines.find("name");
  int line = key == stage.key_lines.end() ? 1 : key->second;
  return spec_error(spec.file, line, "stages[" + std::to_string(index) + "]." + field, what);
}

}  // namespace sluice::topics
