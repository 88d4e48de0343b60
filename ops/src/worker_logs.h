// WorkerLogs: forwards what a supervised worker writes (stdout and stderr)
// to the supervisor's stderr, a line at a time, each prefixed with the
// worker's name ("s3#1 | ...", or with JSON logs a first field "worker"),
// so that the workers' lines never mix mid-line. One thread per worker; it
// ends when both pipes reach EOF.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "unique_fd.h"

namespace sluice::ops {

// One line of `worker`'s as the supervisor writes it: "WORKER | line", or
// with `json` a JSON object whose first field is "worker": the line's own
// fields after it when the line is a JSON object, else {"worker", "message"}.
std::string worker_log_line(const std::string& worker, std::string_view line, bool json);

class WorkerLogs {
 public:
  WorkerLogs(std::string prefix, bool json, stages::UniqueFd out, stages::UniqueFd err);
  ~WorkerLogs();  // waits for EOF on both (the worker has exited by then)
  WorkerLogs(const WorkerLogs&) = delete;
  WorkerLogs& operator=(const WorkerLogs&) = delete;

 private:
  void run();

  std::string prefix_;
  bool json_;
  stages::UniqueFd out_, err_;
  std::thread thread_;
};

}  // namespace sluice::ops
