// The maps that configure one builtin stage, as `http:` configures an http
// stage: `dedupe: {window, field}` for builtin dedupe, `gather: {timeout}`
// for builtin gather. Each map is required for its builtin and refused on
// any other stage, and both builtins keep their work in the stage's state,
// so they need `state: true`. Part of reading one stage (stage_reader.cc).
#pragma once

#include <string_view>

#include "sluice/topics/spec.h"
#include "spec_field.h"

namespace sluice::topics {

// Whether `key` of a stage is one builtin's map.
bool is_builtin_field(std::string_view key);

// Reads the map `f`, the stage's entry `key` (one that is_builtin_field),
// into `s.dedupe` or `s.gather`.
Status read_builtin_field(const Field& f, std::string_view key, StageSpec& s);

// On the stage `item`, read into `s` (its settings merged): each builtin's
// map is there exactly when the stage runs that builtin, with `state: true`.
Status check_builtin_fields(const Field& item, const StageSpec& s);

}  // namespace sluice::topics
