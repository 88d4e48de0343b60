// Encodes an output envelope straight to protobuf wire format, in one pass.
//
// The hot path of every stage: building a v1::Envelope and serializing it
// copies each string twice and walks the message twice (ByteSizeLong, then
// the write). This writes the same fields (proto3 rules: empty and zero
// fields are omitted) from the task's own strings into `out`; the generated
// parser reads them back (the unit tests hold it to that).
#pragma once

#include <string>
#include <string_view>

#include "input_decoder.h"
#include "sluice/stage.h"

namespace sluice::engine {

struct OutputAddress {
  std::string pipeline;
  std::string source_stage;
  std::string destination_stage;  // empty: <pipeline>.done
};

// `out` is overwritten. `part`: the fan-out part the output is (null:
// none). Returns the output's record key (a view into task or output, valid
// as long as they are).
std::string_view encode_output_envelope(const InputFields& input, const Task& task,
                                        const Output& output, const OutputAddress& address,
                                        const std::string& new_task_id, const TaskPart* part,
                                        std::string* out);

}  // namespace sluice::engine
