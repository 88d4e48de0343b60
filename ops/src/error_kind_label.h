// The `kind` label of sluice_task_errors_total: an error kind made safe and
// bounded, as a pure rule the unit tests check without a registry.
//
// Kinds come from stages (a builtin may name its own), so the label set is
// bounded per stage: DESIGN.md's kinds and the engine's own (protocol,
// too_large, invalid_record, bad_output, invalid_input) always keep their
// name; http_<3 digits> and any other kind, sanitized, take one of the
// remaining places until kMaxKinds labels exist, then count as "other".
// One per stage observer, called from its worker's thread only.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace sluice::ops {

// A known kind or http_<3 digits> as is; anything else lowercased, with
// each character outside [a-z0-9_] made '_', cut to 32 characters; an empty
// kind is "other".
std::string sanitize_error_kind(std::string_view kind);

class ErrorKindLabels {
 public:
  static constexpr size_t kMaxKinds = 64;  // distinct labels per stage, "other" included

  // The label `kind` is counted under.
  std::string label(std::string_view kind);

 private:
  std::set<std::string, std::less<>> admitted_;  // labels beyond the known kinds
};

}  // namespace sluice::ops
