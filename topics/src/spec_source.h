// Where each part of a PipelineSpec came from in its file: the lines that
// graph checks (spec_validation) blame, kept apart so that PipelineSpec
// stays a plain model. Filled by spec_reader, parallel to spec.stages.
#pragma once

#include <string>
#include <vector>

namespace sluice::topics {

struct StageSource {
  int line = 1;                 // the stage's first line
  int name_line = 1;            // its `name:` key
  std::vector<int> next_lines;  // one per entry of `next`
};

struct SpecSource {
  std::string file;
  std::vector<StageSource> stages;   // stages[i] describes spec.stages[i]
};

}  // namespace sluice::topics
