#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "commands.h"
#include "metrics.h"
#include "sluice/stages/registry.h"
#include "sluice/worker.h"

namespace sluice::ops {
namespace {

// Where a stateful stage's worker keeps its store: --state-dir, else the
// spec's state_dir (relative to the spec file), else the user's data
// directory ($XDG_DATA_HOME, else ~/.local/share); then
// <pipeline>/<stage>/<instance>, so that workers on one machine never share
// one (RocksDB's lock refuses that) and a restart under the same --instance
// finds its state again.
std::string state_dir_of(const std::string& given, const topics::StageSpec& spec,
                         const std::string& pipeline, const std::string& instance) {
  std::filesystem::path base = given;
  if (base.empty() && !spec.state_dir.empty()) {
    base = std::filesystem::path(spec.workdir) / spec.state_dir;
  }
  if (base.empty()) {
    const char* data = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    base = data && *data ? std::filesystem::path(data)
           : home && *home ? std::filesystem::path(home) / ".local" / "share"
                           : std::filesystem::temp_directory_path();
    base /= "sluice";
    base /= "state";
  }
  return (base / pipeline / spec.name / instance).lexically_normal().string();
}

// The stages `--stage` names: one, or every stage for "all".
Result<std::vector<std::string>> chosen_stages(const topics::PipelineSpec& spec,
                                               const std::string& stage) {
  std::vector<std::string> names;
  if (stage == "all") {
    for (const topics::StageSpec& s : spec.stages) names.push_back(s.name);
    return names;
  }
  auto named = spec.require_stage(stage);
  if (!named.is_ok()) return named.status();
  names.push_back(stage);
  return names;
}

// exactly_once names each worker's transactional producer after it
// (topics/names.h): a restart under the same name fences the old one at
// once. Without --instance, the host and process id: unique, but a restart
// then waits out the killed worker's transaction (transaction.timeout.ms).
Result<std::string> instance_name(const std::string& given) {
  if (given.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "host");
    return std::string(host) + "-" + std::to_string(getpid());
  }
  bool valid = given.size() <= 200 && std::all_of(given.begin(), given.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (!valid) {
    return usage_error("--instance '" + given + "': use up to 200 of [A-Za-z0-9._-]");
  }
  return given;
}

Result<std::unique_ptr<Worker>> make_worker(const Target& target, const std::string& stage,
                                            const std::string& instance,
                                            const std::string& state_dir,
                                            MetricsServer* metrics) {
  const topics::StageSpec& spec = *target.spec.find_stage(stage);  // chosen_stages checked
  auto made = stages::make_stage(spec);
  if (!made.is_ok()) return made.status();
  WorkerOptions options;
  options.spec = target.spec;
  options.stage = stage;
  options.kafka = target.kafka;
  options.kafka.client_id = "sluice-" + target.spec.pipeline + "-" + stage;
  options.instance = instance;
  if (spec.state) options.state_dir = state_dir_of(state_dir, spec, target.spec.pipeline, instance);
  options.observer = metrics ? metrics->observer(stage) : nullptr;
  options.abandon = &abandon_requested();
  return Worker::create(std::move(options), std::move(made).value());
}

// A stop's last resort. Every wait of a worker's shutdown is bounded by its
// deadline, but librdkafka's calls are not ours to bound: its
// send_offsets_to_transaction waits for its answer with no timeout of its own
// (rdkafka_txnmgr.c: RD_POLL_INFINITE), and in 2.14.2 the bound of its request
// to the group coordinator was never checked (confluentinc/librdkafka#5456):
// with the coordinator down it blocked for good, and held a stop past 45 s
// after a broker's bounce (test_chaos_brokers). ops/librdkafka-patches fixes
// that one; this stays for the next such defect, and for a librdkafka built
// without the patch. Past the shutdown deadline and a margin the process
// exits without the rest of its shutdown: what was not committed runs again,
// and the broker aborts an open transaction within transaction.timeout.ms.
class StopWatchdog {
 public:
  explicit StopWatchdog(std::chrono::milliseconds allowed)
      : thread_([this, allowed] { watch(allowed); }) {}
  ~StopWatchdog() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void watch(std::chrono::milliseconds allowed) {
    std::unique_lock lock(mutex_);
    while (!finished_ && !stop_requested().load()) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
    }
    if (finished_) return;
    if (wake_.wait_for(lock, allowed, [this] { return finished_; })) return;
    spdlog::error("the workers did not stop within {} s of the stop (a Kafka call that does "
                  "not return); exiting without the rest of the shutdown: work not committed "
                  "runs again", allowed.count() / 1000);
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool finished_ = false;
  std::thread thread_;
};

// What a stop may take before the watchdog ends the process: the engine's
// shutdown deadline, plus what its bounded steps may add past it (the
// abort of a failed commit, the producer's close).
constexpr auto kStopMargin = std::chrono::seconds(10);

// Runs every worker on its own thread; the first to fail stops the others.
Status run_workers(std::vector<std::unique_ptr<Worker>>& workers) {
  std::vector<Status> results(workers.size());
  std::vector<std::thread> threads;
  StopWatchdog watchdog(WorkerOptions{}.shutdown_deadline + kStopMargin);
  for (size_t i = 0; i < workers.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = workers[i]->run(stop_requested());
      if (!results[i].is_ok()) request_stop();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Status& result : results) {
    if (!result.is_ok()) return result;
  }
  return Status::ok();
}

}  // namespace

int run_command(const RunOptions& options) {
  if (!options.log_file.empty()) {
    if (Status s = log_to_file(options.log_file); !s.is_ok()) return report(s);
  }
  install_stop_signals();
  auto target = load_target(options.spec_path);
  if (!target.is_ok()) return report(target.status());
  if (Status s = stages::check_builtins(target->spec); !s.is_ok()) return report(s);
  auto chosen = chosen_stages(target->spec, options.stage);
  if (!chosen.is_ok()) return report(chosen.status());
  auto instance = instance_name(options.instance);
  if (!instance.is_ok()) return report(instance.status());
  const std::vector<std::string>& names = *chosen;
  std::unique_ptr<MetricsServer> metrics;
  if (!options.metrics_addr.empty()) {
    auto started = MetricsServer::start(options.metrics_addr, target->spec, target->kafka, names);
    if (!started.is_ok()) return report(started.status());
    metrics = std::move(started).value();
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (const std::string& name : names) {
    auto worker = make_worker(*target, name, *instance, options.state_dir, metrics.get());
    if (!worker.is_ok()) return report(worker.status());
    workers.push_back(std::move(worker).value());
  }
  Status result = run_workers(workers);
  workers.clear();  // workers close before metrics and the embedded broker
  return report(result);
}

}  // namespace sluice::ops
