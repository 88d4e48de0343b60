#include "supervisor.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "child_process.h"
#include "restart_backoff.h"
#include "worker_logs.h"

namespace sluice::ops {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kTick{100};
constexpr milliseconds kMinRestart{1000};
constexpr milliseconds kMaxRestart{30000};
constexpr std::chrono::seconds kHealthyAfter{60};

// A graceful stop: SIGTERM to the worker alone, which then stops its exec
// children in order (its whole group at once would kill them mid-task). The
// pid is still ours: only tend() reaps, on this thread.
void terminate(stages::ChildProcess& child) { ::kill(child.pid(), SIGTERM); }

}  // namespace

struct Supervisor::Worker {
  std::string stage;
  int index = 0;
  std::string name() const { return stage + "#" + std::to_string(index); }
  std::unique_ptr<stages::ChildProcess> child;
  std::unique_ptr<WorkerLogs> logs;
  stages::RestartBackoff backoff{kMinRestart, kMaxRestart};
  Clock::time_point started{};
  Clock::time_point restart_at{};  // while not running
  bool leaving = false;            // SIGTERMed by a scale-down: not restarted
};

Supervisor::Supervisor(const topics::PipelineSpec& spec, Options options)
    : spec_(spec), options_(std::move(options)) {
  for (const topics::StageSpec& stage : spec_.stages) wanted_[stage.name] = 1;
}

Supervisor::~Supervisor() { stop_all(); }

Status Supervisor::set_workers(const std::string& stage, int count) {
  const topics::StageSpec* spec = spec_.find_stage(stage);
  if (spec == nullptr) return usage_error("no stage named '" + stage + "' in " + spec_.file);
  if (count < 0) return usage_error("stage " + stage + ": a worker count is 0 or more");
  if (count > spec->partitions) {
    return usage_error("stage " + stage + " has " + std::to_string(spec->partitions) +
                       " partitions: more than " + std::to_string(spec->partitions) +
                       " workers would idle");
  }
  std::lock_guard lock(mutex_);
  if (wanted_[stage] != count) {
    spdlog::info("supervisor: stage {}: {} -> {} workers", stage, wanted_[stage], count);
  }
  wanted_[stage] = count;
  return Status::ok();
}

std::map<std::string, int> Supervisor::workers() const {
  std::lock_guard lock(mutex_);
  return wanted_;
}

void Supervisor::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    tend();
    std::this_thread::sleep_for(kTick);
  }
  stop_all();
}

void Supervisor::start(Worker& worker) {
  std::vector<std::string> argv = {options_.program, "run",        "-f",
                                   options_.spec_path, "--stage", worker.stage,
                                   "--instance", worker.stage + "-" + std::to_string(worker.index)};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  if (options_.metrics_port > 0) {
    argv.insert(argv.end(), {"--metrics-addr", options_.metrics_host + ":" +
                                                   std::to_string(metrics_port_of(worker))});
  }
  auto child = stages::ChildProcess::spawn(argv);
  if (!child.is_ok()) {
    spdlog::error("supervisor: cannot start {}: {}", worker.name(), child.status().message());
    worker.restart_at = Clock::now() + worker.backoff.next();
    return;
  }
  worker.child = std::move(child).value();
  worker.logs = std::make_unique<WorkerLogs>(worker.name(), options_.json_logs,
                                             worker.child->take_stdout(),
                                             worker.child->take_stderr());
  worker.started = Clock::now();
  spdlog::info("supervisor: started {} (pid {})", worker.name(), worker.child->pid());
}

// One pass: reap the workers that exited, restart those due, and bring each
// stage to the count asked for.
void Supervisor::tend() {
  std::map<std::string, int> wanted = workers();
  Clock::time_point now = Clock::now();
  for (auto it = workers_.begin(); it != workers_.end();) {
    Worker& worker = **it;
    if (worker.child) {
      std::optional<int> exit = worker.child->wait_for_exit(milliseconds(0));
      if (exit) {
        worker.logs.reset();  // its pipes are at EOF once the group is gone
        worker.child.reset();
        if (worker.leaving) {
          spdlog::info("supervisor: {} left ({})", worker.name(), stages::describe_exit(*exit));
          it = workers_.erase(it);
          continue;
        }
        if (now - worker.started >= kHealthyAfter) worker.backoff.reset();
        milliseconds delay = worker.backoff.next();
        worker.restart_at = now + delay;
        restarts_.fetch_add(1);
        spdlog::warn("supervisor: {} {}; restarting it in {} ms", worker.name(),
                     stages::describe_exit(*exit), delay.count());
      }
    } else if (!worker.leaving && now >= worker.restart_at) {
      start(worker);
    }
    ++it;
  }
  for (const auto& [stage, count] : wanted) {
    std::vector<Worker*> staying;
    for (auto& worker : workers_) {
      if (worker->stage == stage && !worker->leaving) staying.push_back(worker.get());
    }
    std::sort(staying.begin(), staying.end(),
              [](const Worker* a, const Worker* b) { return a->index < b->index; });
    for (int index = 0; static_cast<int>(staying.size()) < count; ++index) {
      bool taken = std::any_of(workers_.begin(), workers_.end(), [&](const auto& w) {
        return w->stage == stage && w->index == index;
      });
      if (taken) continue;  // a leaving worker still holds the name
      auto worker = std::make_unique<Worker>();
      worker->stage = stage;
      worker->index = index;
      start(*worker);
      staying.push_back(worker.get());
      workers_.push_back(std::move(worker));
    }
    while (static_cast<int>(staying.size()) > count) {
      Worker* last = staying.back();
      staying.pop_back();
      last->leaving = true;
      if (last->child) {
        spdlog::info("supervisor: stopping {}", last->name());
        terminate(*last->child);
      }
    }
  }
  // Leaving workers that were not running (waiting for a restart) just go.
  std::erase_if(workers_, [](const auto& w) { return w->leaving && !w->child; });
  write_targets();
}

int Supervisor::metrics_port_of(const Worker& worker) const {
  int offset = 0;
  for (const topics::StageSpec& stage : spec_.stages) {
    if (stage.name == worker.stage) break;
    offset += stage.partitions;  // the most workers a stage gets
  }
  return options_.metrics_port + offset + worker.index;
}

// Prometheus' file_sd format: a target group per running worker, labelled
// as the series it serves (ops/prometheus/prometheus.yml keeps them with
// honor_labels). Written to a temporary file and renamed: Prometheus never
// reads half a file. Only when the running set changed.
void Supervisor::write_targets() {
  if (options_.targets_file.empty() || options_.metrics_port <= 0) return;
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& worker : workers_) {
    if (!worker->child || worker->leaving) continue;
    groups.push_back(
        {{"targets", {options_.metrics_host + ":" + std::to_string(metrics_port_of(*worker))}},
         {"labels", {{"pipeline", spec_.pipeline}, {"stage", worker->stage},
                     {"worker", worker->name()}}}});
  }
  std::string text = groups.dump(2) + "\n";
  if (text == targets_written_) return;
  std::string temporary = options_.targets_file + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      spdlog::warn("supervisor: cannot write {}: {}", temporary, std::strerror(errno));
      return;
    }
  }
  if (std::rename(temporary.c_str(), options_.targets_file.c_str()) != 0) {
    spdlog::warn("supervisor: cannot replace {}: {}", options_.targets_file, std::strerror(errno));
    return;
  }
  targets_written_ = std::move(text);
}

void Supervisor::stop_all() {
  if (workers_.empty()) return;
  spdlog::info("supervisor: stopping {} workers", workers_.size());
  for (auto& worker : workers_) {
    if (worker->child) terminate(*worker->child);
  }
  Clock::time_point deadline = Clock::now() + options_.grace;
  for (auto& worker : workers_) {
    if (!worker->child) continue;
    auto left = std::max(milliseconds(0),
                         std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    if (!worker->child->wait_for_exit(left)) {
      spdlog::warn("supervisor: {} still runs after {} ms; killing it", worker->name(),
                   options_.grace.count());
      worker->child->kill_and_reap();
    }
    worker->logs.reset();
    worker->child.reset();
  }
  workers_.clear();
}

}  // namespace sluice::ops
