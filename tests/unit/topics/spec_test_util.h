// Helpers for spec tests: parse YAML text as file "p.yaml" and get back the
// one-line error, so each test states the exact message a user would see.
#pragma once

#include <string>

#include "sluice/topics/spec.h"

namespace sluice::topics::testing {

inline constexpr const char* kFile = "p.yaml";

// The error message of parse_spec, "(accepted)" when the spec is valid, and
// a "[code X] " prefix if the code is anything but kUsage.
inline std::string refusal(const std::string& yaml) {
  Result<PipelineSpec> spec = parse_spec(yaml, kFile);
  if (spec.is_ok()) return "(accepted)";
  const Status& s = spec.status();
  std::string prefix = s.code() == StatusCode::kUsage
                           ? ""
                           : std::string("[code ") + status_code_name(s.code()) + "] ";
  return prefix + s.message();
}

}  // namespace sluice::topics::testing
