// `sluice up -f SPEC [--scale STAGE=N,...]`: supervises worker processes of
// every stage on this machine (supervisor.h) until SIGTERM or SIGINT, with
// `sluice scale` reaching it through its control socket (control_socket.h).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstdio>
#include <optional>
#include <thread>
#include <tuple>

#include "autoscaler.h"
#include "cli_support.h"
#include "commands.h"
#include "control_socket.h"
#include "listen_address.h"
#include "sluice/inspect.h"
#include "supervisor.h"

namespace sluice::ops {
namespace {

Result<std::string> own_program() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return Status(StatusCode::kFatal, "cannot find the sluice binary (/proc/self/exe)");
  return std::string(path, static_cast<size_t>(n));
}

// "STAGE=N" into its parts; kUsage naming the flag otherwise.
Result<std::pair<std::string, int>> stage_count(const std::string& text, const char* flag) {
  size_t equals = text.find('=');
  int count = -1;
  if (equals != std::string::npos && equals > 0) {
    const char* begin = text.data() + equals + 1;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(begin, end, count);
    if (error != std::errc() || stop != end) count = -1;
  }
  if (count < 0) {
    return usage_error(std::string(flag) + " " + text + ": expected STAGE=N, N a count");
  }
  return std::make_pair(text.substr(0, equals), count);
}

std::string counts_text(const std::map<std::string, int>& counts) {
  std::string text;
  for (const auto& [stage, count] : counts) {
    text += (text.empty() ? "" : " ") + stage + "=" + std::to_string(count);
  }
  return text;
}

// One control line (control_socket.h) against the supervisor.
std::string answer(Supervisor& supervisor, const std::string& line) {
  if (line == "workers") return "ok " + counts_text(supervisor.workers());
  char stage[256];
  int count = 0;
  char rest = 0;
  if (std::sscanf(line.c_str(), "scale %255s %d%c", stage, &count, &rest) == 2) {
    Status s = supervisor.set_workers(stage, count);
    return s.is_ok() ? "ok" : "error " + s.message();
  }
  return "error unknown request '" + line + "' (expected 'scale STAGE N' or 'workers')";
}

constexpr std::chrono::seconds kAutoscaleEvery{2};

Result<AutoscaleSettings> autoscale_settings(const UpOptions& options) {
  AutoscaleSettings settings;
  for (auto [flag, text, into] : {std::tuple{"--target-drain", &options.target_drain,
                                             &settings.target_drain},
                                  std::tuple{"--cool-down", &options.cool_down, &settings.cool_down},
                                  std::tuple{"--idle-after", &options.idle_after,
                                             &settings.idle_after}}) {
    auto parsed = topics::parse_duration(*text);
    if (!parsed.is_ok()) return usage_error(std::string(flag) + ": " + parsed.status().message());
    *into = *parsed;
  }
  return settings;
}

// The autoscaler's loop: a status every kAutoscaleEvery, a decision applied.
void autoscale(Supervisor& supervisor, Autoscaler& autoscaler, Inspector& inspector,
               const std::atomic<bool>& stop) {
  std::string last_error;
  while (!stop.load()) {
    auto status = inspector.status();
    if (!status.is_ok()) {
      if (status.status().message() != last_error) {
        spdlog::warn("autoscale: no decision while the broker cannot be read: {}",
                     status.status().message());
      }
      last_error = status.status().message();
    } else if (auto decision = autoscaler.decide(*status, supervisor.workers(),
                                                 Autoscaler::Clock::now())) {
      last_error.clear();
      spdlog::info("autoscale: stage {}: {} -> {} workers: {} ({} up, {} down so far)",
                   decision->stage, decision->from, decision->to, decision->reason,
                   autoscaler.ups(), autoscaler.downs());
      if (Status s = supervisor.set_workers(decision->stage, decision->to); !s.is_ok()) {
        spdlog::warn("autoscale: {}", s.message());
      }
    }
    for (int i = 0; i < 20 && !stop.load(); ++i) {
      std::this_thread::sleep_for(kAutoscaleEvery / 20);
    }
  }
}

}  // namespace

int up_command(const UpOptions& options) {
  install_stop_signals();
  auto target = load_external_target(options.spec_path, "run workers against");
  if (!target.is_ok()) return report(target.status());
  auto program = own_program();
  if (!program.is_ok()) return report(program.status());
  Supervisor::Options supervisor_options;
  supervisor_options.program = *program;
  supervisor_options.spec_path = options.spec_path;
  if (!options.state_dir.empty()) {
    supervisor_options.extra_args = {"--state-dir", options.state_dir};
  }
  if (!options.metrics_addr.empty()) {
    auto address = listen_address(options.metrics_addr);
    if (!address.is_ok()) return report(address.status());
    size_t colon = address->rfind(':');
    supervisor_options.metrics_host = address->substr(0, colon);
    supervisor_options.metrics_port = std::atoi(address->c_str() + colon + 1);
    supervisor_options.targets_file = options.targets_file;
  } else if (!options.targets_file.empty()) {
    return report(usage_error("up: --targets-file needs --metrics-addr"));
  }
  // The workers log as the supervisor does, whether --log-format or
  // SLUICE_LOG_FORMAT chose it.
  supervisor_options.json_logs = json_logs();
  if (json_logs()) {
    supervisor_options.extra_args.insert(supervisor_options.extra_args.end(),
                                         {"--log-format", "json"});
  }
  Supervisor supervisor(target->spec, supervisor_options);
  std::optional<AutoscaleSettings> settings;
  if (options.autoscale) {
    auto parsed = autoscale_settings(options);
    if (!parsed.is_ok()) return report(parsed.status());
    settings = *parsed;
    for (const topics::StageSpec& stage : target->spec.stages) {
      (void)supervisor.set_workers(stage.name, std::min(stage.scale.min, stage.partitions));
    }
  }
  for (const std::string& item : options.scale) {
    auto parsed = stage_count(item, "--scale");
    if (!parsed.is_ok()) return report(parsed.status());
    if (Status s = supervisor.set_workers(parsed->first, parsed->second); !s.is_ok()) {
      return report(s);
    }
  }
  std::string path =
      options.control.empty() ? control_socket_path(target->spec.pipeline) : options.control;
  auto control = ControlServer::start(
      path, [&supervisor](const std::string& line) { return answer(supervisor, line); });
  if (!control.is_ok()) return report(control.status());
  std::fprintf(stderr, "sluice up: pipeline %s: %s; control socket %s\n",
               target->spec.pipeline.c_str(), counts_text(supervisor.workers()).c_str(),
               path.c_str());
  std::thread autoscaler_thread;
  std::unique_ptr<Autoscaler> autoscaler;
  std::unique_ptr<Inspector> inspector;
  if (settings) {
    auto made = Inspector::create(target->spec, target->kafka);
    if (!made.is_ok()) return report(made.status());
    inspector = std::move(made).value();
    autoscaler = std::make_unique<Autoscaler>(target->spec, *settings);
    autoscaler_thread = std::thread([&] {
      autoscale(supervisor, *autoscaler, *inspector, stop_requested());
    });
  }
  supervisor.run(stop_requested());
  if (autoscaler_thread.joinable()) autoscaler_thread.join();
  return kExitOk;
}

int scale_command(const ScaleOptions& options) {
  auto spec = topics::load_spec_file(options.spec_path);
  if (!spec.is_ok()) return report(spec.status());
  const topics::StageSpec* stage = spec->find_stage(options.stage);
  if (stage == nullptr) {
    return report(usage_error("no stage named '" + options.stage + "' in " + spec->file));
  }
  if (options.count < 0 || options.count > stage->partitions) {
    return report(usage_error("stage " + options.stage + ": N must be 0 to " +
                              std::to_string(stage->partitions) + " (its partitions)"));
  }
  std::string path =
      options.control.empty() ? control_socket_path(spec->pipeline) : options.control;
  auto reply = control_request(
      path, "scale " + options.stage + " " + std::to_string(options.count),
      std::chrono::milliseconds(5000));
  if (!reply.is_ok()) return report(reply.status());
  if (*reply != "ok") {
    return report(usage_error(reply->starts_with("error ") ? reply->substr(6) : *reply));
  }
  std::printf("stage %s: %d worker%s\n", options.stage.c_str(), options.count,
              options.count == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace sluice::ops
