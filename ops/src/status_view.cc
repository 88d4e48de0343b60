#include "status_view.h"

#include <algorithm>
#include <cstdio>

namespace sluice::ops {
namespace {

// The bar: full blocks (U+2588, 3 bytes each), then spaces to `width` cells.
std::string bar(int64_t depth, int64_t full, int width) {
  if (width <= 0) return "";
  int cells = full > 0 ? static_cast<int>(std::min<int64_t>(width, depth * width / full)) : 0;
  if (depth > 0 && cells == 0) cells = 1;  // something waits: never an empty bar
  std::string out;
  for (int i = 0; i < cells; ++i) out += "\u2588";
  out.append(static_cast<size_t>(width - cells), ' ');
  return out;
}

std::string holds(const StageStatus& stage) {
  std::string out;
  if (!stage.paused_by.empty()) out = "paused by " + stage.paused_by;
  if (stage.stuck()) out += (out.empty() ? "" : ", ") + std::string("stuck");
  if (stage.circuit_open) out += (out.empty() ? "" : ", ") + std::string("circuit open");
  if (out.empty()) out = stage.state();
  return out;
}

// Cuts a line to `width` columns, counting a bar block as one.
std::string fit(const std::string& line, int width) {
  std::string out;
  int columns = 0;
  for (size_t i = 0; i < line.size() && columns < width;) {
    size_t len = (static_cast<unsigned char>(line[i]) & 0xE0) == 0xE0 ? 3 : 1;
    out.append(line, i, len);
    i += len;
    ++columns;
  }
  return out;
}

}  // namespace

std::vector<std::string> render_status_view(const StatusViewInput& input, int width) {
  const PipelineStatus& status = *input.status;
  size_t name_width = 5;
  for (const StageStatus& stage : status.stages) {
    name_width = std::max(name_width, stage.stage.size());
  }
  // STAGE WORKERS [bar] QUEUE RATE/S RETRY DLQ STATE: the fixed columns take
  // about 60 cells past the name; the bar gets what is left, up to 30.
  int fixed = static_cast<int>(name_width) + 62;
  int bar_width = std::clamp(width - fixed, 0, 30);
  std::vector<std::string> lines;
  char text[512];
  std::snprintf(text, sizeof text, "pipeline %s   %s   done %lld   (Ctrl-C to quit)",
                status.pipeline.c_str(), input.time.c_str(),
                static_cast<long long>(status.done));
  lines.push_back(fit(text, width));
  std::snprintf(text, sizeof text, "  %-*s %7s %-*s %9s %8s %7s %7s  %s",
                static_cast<int>(name_width), "STAGE", "WORKERS", bar_width, "", "QUEUE",
                "RATE/S", "RETRY", "DLQ", "STATE");
  lines.push_back(fit(text, width));
  for (size_t i = 0; i < status.stages.size(); ++i) {
    const StageStatus& stage = status.stages[i];
    bool bottleneck = stage.stage == input.bottleneck;
    // Full at the high watermark: where the stage holds the one before it back.
    int64_t full = i < input.high_watermarks.size() ? input.high_watermarks[i] : 1;
    std::snprintf(text, sizeof text, "%s %-*s %7d %s %9lld %8.1f %7lld %7lld  %s%s",
                  bottleneck ? ">" : " ", static_cast<int>(name_width), stage.stage.c_str(),
                  stage.workers, bar(stage.depth("input"), full, bar_width).c_str(),
                  static_cast<long long>(stage.depth("input")), stage.throughput,
                  static_cast<long long>(stage.depth("retry")),
                  static_cast<long long>(stage.depth("dlq")), holds(stage).c_str(),
                  bottleneck ? "  <- bottleneck" : "");
    lines.push_back(fit(text, width));
  }
  return lines;
}

}  // namespace sluice::ops
