// The fields a pipeline spec accepts, section by section. This is the one
// list: the spec readers refuse any key not in it ("unknown field"), and a
// unit test holds the reference, topics/SPEC.md, to it.
#pragma once

#include <span>
#include <string_view>

namespace sluice::topics {

enum class SpecSection {
  kTop,           // the document's keys: pipeline, kafka, defaults, stages
  kKafka,         // kafka.*
  kStage,         // stages[].* that only a stage has: name, kind, command, ...
  kHttp,          // stages[].http.* (kind http)
  kDedupe,        // stages[].dedupe.* (builtin dedupe)
  kGather,        // stages[].gather.* (builtin gather)
  kSettings,      // defaults.* and stages[].*: what a stage inherits from defaults
  kRetry,         // retry.* (in defaults or a stage)
  kCircuit,       // circuit.* (in defaults or a stage)
  kBackpressure,  // backpressure.* (in defaults or a stage)
  kScale,         // scale.* (in defaults or a stage)
  kSlo,           // slo.* (in defaults or a stage)
};

// The keys of one section, in the order the reference lists them.
// Free-form maps (kafka.properties) have no list: any key goes.
std::span<const std::string_view> spec_fields(SpecSection section);

}  // namespace sluice::topics
