// The lookups on a validated PipelineSpec.
#include "sluice/topics/spec.h"

#include <algorithm>

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

}  // namespace sluice::topics
