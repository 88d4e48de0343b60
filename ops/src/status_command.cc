#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <optional>
#include <cstdio>
#include <ctime>
#include <thread>

#include "cli_support.h"
#include "commands.h"
#include "drain_estimate.h"
#include "sluice/inspect.h"
#include "status_view.h"
#include "terminal_screen.h"

namespace sluice::ops {
namespace {

// What the status adds to the Inspector's view: drain estimates per stage.
struct Estimates {
  std::vector<DrainEstimate> stages;  // as status.stages
  std::string bottleneck;
  double target_seconds;
};

Estimates estimate(const PipelineStatus& status, const topics::PipelineSpec& spec,
                   double target_seconds) {
  Estimates out{{}, bottleneck(status), target_seconds};
  for (const StageStatus& stage : status.stages) {
    const topics::StageSpec* s = spec.find_stage(stage.stage);
    out.stages.push_back(estimate_drain(stage, s ? s->partitions : 1, target_seconds));
  }
  return out;
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json to_json(const PipelineStatus& status, const Estimates& estimates) {
  nlohmann::json stages = nlohmann::json::array();
  for (size_t i = 0; i < status.stages.size(); ++i) {
    const StageStatus& stage = status.stages[i];
    const DrainEstimate& drain = estimates.stages[i];
    nlohmann::json queue = nlohmann::json::object();
    for (const TopicDepth& topic : stage.topics) {
      queue[topic.role] = {{"topic", topic.topic}, {"depth", topic.depth}};
    }
    stages.push_back({{"stage", stage.stage}, {"group", stage.group},
                      {"workers", stage.workers}, {"queue", queue},
                      {"circuit_open", stage.circuit_open},
                      {"state", stage.state()},
                      {"paused", !stage.paused_by.empty()},
                      {"paused_by", stage.paused_by.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(stage.paused_by)},
                      {"stuck", stage.stuck()},
                      {"stuck_partitions", stage.stuck_partitions},
                      {"throughput", stage.throughput},
                      {"drain_seconds", or_null(drain.seconds)},
                      {"workers_to_drain", or_null(drain.workers_to_drain)},
                      {"restore", {{"partitions", stage.restoring_partitions},
                                   {"records_left", stage.restore_records_left}}}});
  }
  nlohmann::json bottleneck = nullptr;
  for (size_t i = 0; i < status.stages.size(); ++i) {
    if (status.stages[i].stage != estimates.bottleneck) continue;
    bottleneck = {{"stage", estimates.bottleneck},
                  {"drain_seconds", or_null(estimates.stages[i].seconds)},
                  {"workers_to_drain", or_null(estimates.stages[i].workers_to_drain)},
                  {"target_seconds", estimates.target_seconds}};
  }
  return {{"pipeline", status.pipeline}, {"stages", stages}, {"done", status.done},
          {"bottleneck", bottleneck}};
}

// "-", or how much of the stage's state its workers are restoring.
std::string restore_cell(const StageStatus& stage) {
  if (stage.restoring_partitions == 0) return "-";
  return std::to_string(stage.restore_records_left) + " records in " +
         std::to_string(stage.restoring_partitions) + " partition" +
         (stage.restoring_partitions == 1 ? "" : "s");
}

// "paused by NEXT", "stuck (2 partitions)", or the state as it is.
std::string state_cell(const StageStatus& stage) {
  if (!stage.paused_by.empty()) return "paused by " + stage.paused_by;
  if (stage.stuck()) {
    return "stuck (" + std::to_string(stage.stuck_partitions) + " partition" +
           (stage.stuck_partitions == 1 ? ")" : "s)");
  }
  return stage.state();
}

// "-", "45s", "12m", "3h", or "never" (records wait, nothing drains them).
std::string duration_cell(const std::optional<double>& seconds) {
  if (!seconds) return "never";
  if (*seconds <= 0) return "-";
  double s = *seconds;
  if (s < 90) return std::to_string(static_cast<long long>(std::ceil(s))) + "s";
  if (s < 5400) return std::to_string(static_cast<long long>(std::ceil(s / 60))) + "m";
  return std::to_string(static_cast<long long>(std::ceil(s / 3600))) + "h";
}

void print_table(const PipelineStatus& status, const Estimates& estimates) {
  std::printf("pipeline %s\n", status.pipeline.c_str());
  std::printf("%-24s %8s %12s %10s %10s %9s %7s %-22s %8s %s\n", "STAGE", "WORKERS", "QUEUE",
              "RETRY", "DLQ", "RATE/S", "DRAIN", "STATE", "CIRCUIT", "RESTORE");
  for (size_t i = 0; i < status.stages.size(); ++i) {
    const StageStatus& stage = status.stages[i];
    std::printf("%-24s %8d %12lld %10lld %10lld %9.1f %7s %-22s %8s %s\n", stage.stage.c_str(),
                stage.workers, static_cast<long long>(stage.depth("input")),
                static_cast<long long>(stage.depth("retry")),
                static_cast<long long>(stage.depth("dlq")), stage.throughput,
                duration_cell(estimates.stages[i].seconds).c_str(), state_cell(stage).c_str(),
                stage.circuit_open ? "open" : "-", restore_cell(stage).c_str());
  }
  std::printf("%-24s %8s %12lld\n", "done", "", static_cast<long long>(status.done));
  for (size_t i = 0; i < status.stages.size(); ++i) {
    if (status.stages[i].stage != estimates.bottleneck) continue;
    const DrainEstimate& drain = estimates.stages[i];
    std::printf("bottleneck: %s (drains in %s", estimates.bottleneck.c_str(),
                duration_cell(drain.seconds).c_str());
    if (drain.workers_to_drain) {
      std::printf("; %d worker%s would drain it within %s", *drain.workers_to_drain,
                  *drain.workers_to_drain == 1 ? "" : "s",
                  duration_cell(estimates.target_seconds).c_str());
    }
    std::printf(")\n");
  }
}

// HH:MM:SS, local time: when the frame was read.
std::string clock_time() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return text;
}

// --watch on a terminal: the live view, redrawn in place every 2 s (at once
// after a resize) until Ctrl-C or SIGTERM.
int watch_on_terminal(Inspector& inspector, const topics::PipelineSpec& spec) {
  std::vector<int64_t> high_watermarks;
  for (const topics::StageSpec& stage : spec.stages) {
    high_watermarks.push_back(stage.backpressure.high_watermark);
  }
  TerminalScreen screen;
  while (!stop_requested().load()) {
    auto status = inspector.status();
    if (!status.is_ok()) {
      screen.draw({"sluice status: " + status.status().message(), "(retrying; Ctrl-C to quit)"});
    } else {
      StatusViewInput input{&*status, high_watermarks, bottleneck(*status), clock_time()};
      screen.draw(render_status_view(input, screen.width()));
    }
    for (int i = 0; i < 20 && !stop_requested().load() && !screen.resized(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // refresh period
    }
  }
  return kExitOk;
}

}  // namespace

int status_command(const StatusOptions& options) {
  install_stop_signals();
  auto target = load_target(options.spec_path);
  if (!target.is_ok()) return report(target.status());
  auto target_duration = topics::parse_duration(options.drain_target);
  if (!target_duration.is_ok()) {
    return report(usage_error("status: --drain-target: " + target_duration.status().message()));
  }
  double target_seconds = std::chrono::duration<double>(*target_duration).count();
  auto inspector = Inspector::create(target->spec, target->kafka);
  if (!inspector.is_ok()) return report(inspector.status());
  if (options.watch && !options.json && stdout_is_terminal()) {
    return watch_on_terminal(**inspector, target->spec);
  }
  while (true) {
    auto status = (*inspector)->status();
    if (!status.is_ok()) return report(status.status());
    Estimates estimates = estimate(*status, target->spec, target_seconds);
    if (options.json) {
      std::printf("%s\n", to_json(*status, estimates).dump().c_str());
    } else {
      print_table(*status, estimates);
    }
    // A reader that left (`--watch | head -3`) ends the watch, as it does a tail.
    Status written = flush_stdout();
    if (written.code() == StatusCode::kCancelled) return kExitOk;
    if (!written.is_ok()) return report(written);
    if (!options.watch) return kExitOk;
    for (int i = 0; i < 20 && !stop_requested().load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // refresh period
    }
    if (stop_requested().load()) return kExitOk;
    if (!options.json) std::printf("\n");
  }
}

}  // namespace sluice::ops
