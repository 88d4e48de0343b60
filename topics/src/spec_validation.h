// The checks that need the whole pipeline: unique stage names, `next`
// entries that name existing stages (not the stage itself, not twice), no
// cycles, and exactly one entry stage. Errors point at the line that
// breaks the rule, using the lines recorded in SpecSource.
#pragma once

#include "sluice/status.h"
#include "sluice/topics/spec.h"
#include "spec_source.h"

namespace sluice::topics {

Status validate_spec(const PipelineSpec& spec, const SpecSource& source);

}  // namespace sluice::topics
