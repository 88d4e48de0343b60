// Decodes a consumed record value straight into the worker's Task, in one
// pass over the wire bytes.
//
// The hot path of every stage, the mirror of output_encoder.h: parsing into a
// v1::Envelope and then moving its fields into the Task walks every string
// twice and keeps a protobuf message per record. This reads the fields a
// task needs into the Task's own (reused) buffers, and the three that its
// outputs carry on into InputFields; everything else (error history,
// origin, addressing) is skipped, and read with the generated parser only
// when a task is retried or dead-lettered. It accepts what the generated
// parser accepts (proto3 rules: last value of a field wins, unknown fields
// are skipped, `string` fields must be valid UTF-8), except groups, which no
// proto3 writer produces; the unit tests hold it to that.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/stage.h"

namespace sluice::engine {

// What an input carries on into its outputs, besides the task.
struct InputFields {
  std::string correlation_id;
  int64_t submitted_at_unix_ms = 0;
  int64_t deadline_unix_ms = 0;
  int64_t not_before_unix_ms = 0;  // a retry: not to run before this (0: now)
};

// False when `bytes` is not a Sluice envelope (foreign or corrupt, or one
// that names no job); `task` and `fields` are then unspecified.
// `record_key` is the task's key when the envelope carries none (older or
// foreign producers); a missing attempt counts as the first.
bool decode_input(std::string_view bytes, std::string_view record_key, Task* task,
                  InputFields* fields);

}  // namespace sluice::engine
