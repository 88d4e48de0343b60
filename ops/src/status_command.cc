#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli_support.h"
#include "commands.h"
#include "sluice/inspect.h"

namespace sluice::ops {
namespace {

int64_t depth_of(const StageStatus& stage, const std::string& role) {
  for (const TopicDepth& topic : stage.topics) {
    if (topic.role == role) return topic.depth;
  }
  return 0;
}

nlohmann::json to_json(const PipelineStatus& status) {
  nlohmann::json stages = nlohmann::json::array();
  for (const StageStatus& stage : status.stages) {
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
                      {"restore", {{"partitions", stage.restoring_partitions},
                                   {"records_left", stage.restore_records_left}}}});
  }
  return {{"pipeline", status.pipeline}, {"stages", stages}, {"done", status.done}};
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

void print_table(const PipelineStatus& status) {
  std::printf("pipeline %s\n", status.pipeline.c_str());
  std::printf("%-24s %8s %12s %10s %10s %-22s %8s %s\n", "STAGE", "WORKERS", "QUEUE", "RETRY",
              "DLQ", "STATE", "CIRCUIT", "RESTORE");
  for (const StageStatus& stage : status.stages) {
    std::printf("%-24s %8d %12lld %10lld %10lld %-22s %8s %s\n", stage.stage.c_str(),
                stage.workers, static_cast<long long>(depth_of(stage, "input")),
                static_cast<long long>(depth_of(stage, "retry")),
                static_cast<long long>(depth_of(stage, "dlq")), state_cell(stage).c_str(),
                stage.circuit_open ? "open" : "-", restore_cell(stage).c_str());
  }
  std::printf("%-24s %8s %12lld\n", "done", "", static_cast<long long>(status.done));
}

}  // namespace

int status_command(const StatusOptions& options) {
  install_stop_signals();
  auto target = load_target(options.spec_path);
  if (!target.is_ok()) return report(target.status());
  auto inspector = Inspector::create(target->spec, target->kafka);
  if (!inspector.is_ok()) return report(inspector.status());
  while (true) {
    auto status = (*inspector)->status();
    if (!status.is_ok()) return report(status.status());
    if (options.json) {
      std::printf("%s\n", to_json(*status).dump().c_str());
    } else {
      print_table(*status);
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
