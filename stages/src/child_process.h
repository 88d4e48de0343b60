// ChildProcess: one spawned child (argv, never a shell; see child_spawner.h)
// with pipes on its stdin, stdout and stderr, in a process group of its own
// so that a terminal's Ctrl-C reaches only the engine (which then closes the
// child gracefully) and so that a kill also reaches any grandchildren. It
// dies with the worker (parent-death signal).
//
// Owns the pid until it is reaped: wait_for_exit() reaps it, and the moment
// it does, it SIGKILLs what is left of the group (grandchildren must not
// outlive their child, nor hold its pipes open). signal() never targets a
// reaped (possibly reused) pid, and the destructor SIGKILLs and reaps a
// child still running. wait_for_exit() and signal() are safe to call from
// several threads; the pipe ends are taken once, by their users.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sluice/status.h"
#include "unique_fd.h"

namespace sluice::stages {

struct ChildSetup {
  // "NAME=value", the whole environment; nullopt: the worker's own.
  std::optional<std::vector<std::string>> env;
  std::string workdir;  // empty: the worker's cwd
};

class ChildProcess {
 public:
  // Our ends of the pipes are non-blocking and close-on-exec. A program
  // that cannot be found or executed is an error here, not a crash later.
  static Result<std::unique_ptr<ChildProcess>> spawn(const std::vector<std::string>& argv,
                                                     const ChildSetup& setup = {});

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  UniqueFd take_stdin() { return std::move(stdin_); }
  UniqueFd take_stdout() { return std::move(stdout_); }
  UniqueFd take_stderr() { return std::move(stderr_); }

  // The wait status once the child has exited (reaping it on the first
  // call), or nullopt if it is still running after `timeout`.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

  // Sends `sig` to the child's process group, unless it has been reaped.
  void signal(int sig);
  // SIGKILLs the group and reaps the child; returns its wait status. Only
  // the kernel can delay a SIGKILLed child, so this waits as long as it takes.
  int kill_and_reap();

 private:
  ChildProcess(pid_t pid, UniqueFd in, UniqueFd out, UniqueFd err);
  bool try_reap();  // with mu_ held; kills the rest of the group once reaped

  const pid_t pid_;
  UniqueFd pidfd_;  // readable once the child exits; -1 if the kernel lacks pidfd
  UniqueFd stdin_, stdout_, stderr_;
  std::mutex mu_;
  std::optional<int> status_;  // set once reaped
};

// "exited with status 3", "was killed by signal 9 (Killed)".
std::string describe_exit(int wait_status);

// "python3 agent.py --flag", for messages.
std::string join_argv(const std::vector<std::string>& argv);

}  // namespace sluice::stages
