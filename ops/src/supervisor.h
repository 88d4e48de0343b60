// Supervisor: the worker processes of a pipeline on this machine (`sluice
// up`). Each worker is `sluice run -f SPEC --stage S --instance S-N` (N from
// 0: stable, so an exactly_once worker restarted under its name fences its
// predecessor, and a stateful one finds its store again), in a process group
// of its own that dies with the supervisor, its output forwarded with the
// prefix "S#N" (worker_logs.h).
//  - A worker that exits on its own is restarted, after 1 s doubling to 30 s
//    on consecutive failures (reset once one ran for a minute).
//  - set_workers() changes a stage's count while it runs: new workers join
//    the group; the highest-numbered leave with SIGTERM (a graceful stop:
//    they finish, commit and leave; nothing is lost).
//  - stop(): SIGTERM to all, then SIGKILL whoever still runs after the
//    grace period.
// A stage never gets more workers than its input topic has partitions
// (more would idle). set_workers() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {

class Supervisor {
 public:
  struct Options {
    std::string program;    // the sluice binary
    std::string spec_path;  // as given to `sluice up`
    std::vector<std::string> extra_args;  // passed to every `sluice run`
    bool json_logs = false;  // the workers log JSON lines; so does the supervisor of them
    // With a port: each worker serves /metrics on metrics_host and a port of
    // its own from metrics_port up, the same for a worker's restarts (its
    // stage's offset, the partitions of the stages before it, plus its
    // number), and `targets_file` (when set) lists the running ones for
    // Prometheus (file_sd JSON, rewritten whole at each change).
    std::string metrics_host = "127.0.0.1";
    int metrics_port = 0;
    std::string targets_file;
    std::chrono::milliseconds grace{45000};  // SIGTERM to SIGKILL, at stop
  };

  Supervisor(const topics::PipelineSpec& spec, Options options);
  ~Supervisor();

  // kUsage for an unknown stage or a count over its partitions (or < 0).
  Status set_workers(const std::string& stage, int count);
  std::map<std::string, int> workers() const;  // the counts asked for

  // Starts, restarts and stops workers until `stop` is set; then stops them all.
  void run(const std::atomic<bool>& stop);

  // Restarts so far, over all workers (for tests and the log).
  int restarts() const { return restarts_.load(); }

 private:
  struct Worker;
  void tend();
  void start(Worker& worker);
  void stop_all();
  int metrics_port_of(const Worker& worker) const;
  void write_targets();

  topics::PipelineSpec spec_;
  Options options_;
  mutable std::mutex mutex_;
  std::map<std::string, int> wanted_;  // by stage
  std::vector<std::unique_ptr<Worker>> workers_;  // the loop's own
  std::atomic<int> restarts_{0};
  std::string targets_written_;  // the targets file's content as last written
};

}  // namespace sluice::ops
