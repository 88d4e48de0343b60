// The frame `sluice status --watch` draws on a terminal: a row per stage
// with its workers, a bar of its queue depth (full at its high watermark,
// where it holds the stage before it back), the depth, throughput, retry
// and DLQ depth, and what holds it (paused by S, stuck, circuit open), the
// bottleneck marked. A pure function of what it is given, so that it is
// tested without a terminal; status_command.cc draws it in place.
#pragma once

#include <string>
#include <vector>

#include "sluice/inspect.h"

namespace sluice::ops {

struct StatusViewInput {
  const PipelineStatus* status = nullptr;
  std::vector<int64_t> high_watermarks;  // per stage, as status->stages
  std::string bottleneck;                // a stage name, or empty
  std::string time;                      // shown in the heading
};

// Lines no wider than `width` columns (a narrow terminal loses the bar
// first, then cuts the lines).
std::vector<std::string> render_status_view(const StatusViewInput& input, int width);

}  // namespace sluice::ops
