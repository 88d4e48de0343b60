// Reads one entry of `stages`: name, kind, the field its kind needs
// (command, builtin or http), next, and the settings it overrides on top of
// the resolved defaults. Checks everything that one stage can check alone;
// how stages refer to each other is spec_validation's job.
#pragma once

#include "sluice/topics/spec.h"
#include "spec_field.h"
#include "spec_source.h"

namespace sluice::topics {

struct ReadStage {
  StageSpec spec;
  StageSource source;
};

// `defaults` holds the resolved default settings; its stage-only fields
// (name, command, ...) are empty.
Result<ReadStage> read_stage(const Field& item, const StageSpec& defaults);

}  // namespace sluice::topics
