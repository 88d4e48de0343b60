// ExecChild: one incarnation ("generation") of an exec stage's child
// process and the three threads that serve it:
//   writer  takes task lines from the host and writes them to stdin; when
//           the host has no more for this generation it closes stdin;
//   reader  parses stdout lines and hands results to the host; on EOF it
//           reaps the child and reports a crash; on a garbage line it kills
//           the child and reports a protocol error;
//   stderr  logs each stderr line through spdlog, prefixed with the stage;
//   exit    waits on the child itself (pidfd) and reaps it the moment it
//           exits, which kills the rest of its process group: a grandchild
//           holding stdout open cannot make an exited child look hung.
// The host (ExecStage) owns the tasks and decides what a failure means.
//
// Lifecycle: spawn() -> start() -> ... -> destructor, which kills the child
// if it still runs, reaps it, and joins the threads. Destroy it from a
// thread that is none of its own, without the host's lock held (its
// threads call into the host).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "exec_protocol.h"
#include "fd_io.h"

namespace sluice::stages {

// Called from an ExecChild's threads; implemented by ExecStage.
class ExecChildHost {
 public:
  virtual ~ExecChildHost() = default;
  // Blocks until there is a line for `generation` to write; nullopt: stop
  // writing and close stdin.
  virtual std::optional<std::string> next_line(uint64_t generation) = 0;
  virtual void on_result(uint64_t generation, ResultLine result) = 0;
  // The child is gone or unusable; kind is "crash" or "protocol".
  // read_input: it read some of what was written to its stdin (false: no
  // task it was given can be to blame).
  virtual void on_failure(uint64_t generation, std::string kind, std::string message,
                          bool read_input) = 0;
};

struct ExecChildOptions {
  std::string stage;  // for log lines and messages
  uint64_t generation = 0;
  size_t max_line_bytes = kMaxExecLineBytes;
  size_t max_outputs = 1000;  // per result line
  ChildSetup setup;           // environment and working directory
};

class ExecChild {
 public:
  using Millis = std::chrono::milliseconds;

  static Result<std::unique_ptr<ExecChild>> spawn(const std::vector<std::string>& argv,
                                                  ExecChildOptions options, ExecChildHost* host);
  ~ExecChild();

  void start();  // launches the threads; once
  pid_t pid() const { return process_->pid(); }
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }

  void kill() { process_->signal(SIGKILL); }
  // Waits `grace` for the child to exit by itself (its stdin is closed once
  // the host stops handing out lines), then SIGTERM, `term_grace`, SIGKILL.
  void stop(Millis grace, Millis term_grace);

 private:
  ExecChild(std::unique_ptr<ChildProcess> process, ExecChildOptions options, ExecChildHost* host);
  void writer_loop();
  bool read_input();
  void reader_loop(UniqueFd out);
  bool handle_line(const std::string& line);
  void stderr_loop(UniqueFd err);
  void report_exit();
  void report_garbage(const std::string& why);
  std::string who() const;  // "stage S: child pid N"

  std::unique_ptr<ChildProcess> process_;
  const ExecChildOptions options_;
  ExecChildHost* const host_;
  const std::chrono::steady_clock::time_point started_at_;
  WakeFd wake_;  // signalled on teardown: every blocked pipe operation returns
  // The writer's end of stdin; closed by the writer only, under stdin_mutex_,
  // so that read_input() can ask the kernel what is still unread in it.
  std::mutex stdin_mutex_;
  UniqueFd stdin_;
  std::atomic<uint64_t> stdin_bytes_{0};  // whole lines written to it
  std::thread writer_, reader_, stderr_, exit_watcher_;
  std::future<void> reader_done_, stderr_done_;

  // The last lines the child wrote to stderr (bounded), for the error of a
  // crash: a traceback says what `exited with status 1` does not.
  std::string stderr_tail(std::chrono::milliseconds wait_for_close);
  std::mutex stderr_mutex_;
  std::condition_variable stderr_cv_;
  std::deque<std::string> stderr_lines_;  // under stderr_mutex_
  bool stderr_closed_ = false;            // under stderr_mutex_
};

}  // namespace sluice::stages
