// Reads a parsed YAML document into a PipelineSpec: the top-level keys,
// kafka, defaults and each stage, with defaults merged into every stage.
// Refuses unknown or malformed fields; graph checks come after, in
// spec_validation, using the lines recorded in SpecSource.
#pragma once

#include <string>

#include "sluice/topics/spec.h"
#include "spec_source.h"
#include "yaml_tree.h"

namespace sluice::topics {

struct ReadSpec {
  PipelineSpec spec;
  SpecSource source;
};

Result<ReadSpec> read_spec(const YamlNode& root, const std::string& file);

}  // namespace sluice::topics
