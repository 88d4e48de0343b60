// WorkerLogs: forwards what a supervised worker writes (stdout and stderr)
// to the supervisor's stderr, a line at a time, each prefixed with the
// worker's name ("s3#1 | ..."), so that the workers' lines never mix
// mid-line. One thread per worker; it ends when both pipes reach EOF.
#pragma once

#include <mutex>
#include <string>
#include <thread>

#include "unique_fd.h"

namespace sluice::ops {

class WorkerLogs {
 public:
  WorkerLogs(std::string prefix, stages::UniqueFd out, stages::UniqueFd err);
  ~WorkerLogs();  // waits for EOF on both (the worker has exited by then)
  WorkerLogs(const WorkerLogs&) = delete;
  WorkerLogs& operator=(const WorkerLogs&) = delete;

 private:
  void run();

  std::string prefix_;
  stages::UniqueFd out_, err_;
  std::thread thread_;
};

}  // namespace sluice::ops
