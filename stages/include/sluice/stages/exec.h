// The exec stage kind: a long-lived child process per stage instance,
// speaking JSON lines (the protocol: stages/README.md).
//
// Lifecycle: init() starts a supervisor thread that spawns the child (argv,
// never a shell, in spec.workdir, with the environment of spec.env and
// inherit_env) and restarts it with exponential backoff whenever it exits,
// hangs past spec.timeout or writes garbage. Only the guilty task is charged
// an attempt (Outcome::retry, kind "crash", "timeout" or "protocol"): a
// child that dies holding several tasks has them run again one at a time,
// and a timeout blames the task that ran past it. A child that dies (or
// writes garbage) before it answered anything or read any of its stdin
// charges nobody: its tasks wait for the next child. startup_failures of
// those in a row make the stage kFailed if no child ever answered (the
// command cannot start), else kUnavailable (consumption pauses) until a
// child answers or stays up for startup_probe.
// process() never blocks: it queues the task for a writer thread. close()
// closes the child's stdin, waits close_grace for it to exit, then SIGTERM,
// then SIGKILL, and completes what is left with retry("cancelled").
//
// Threads: process() and close() from the worker. `done` runs on the
// process() caller (immediate refusals), the child's stdout reader
// (results, crashes, garbage), the supervisor (timeouts, spawn failures) or
// the close() caller (cancellations); never with an internal lock held, so
// `done` may call process() again. After close() returns, no `done` runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "sluice/stage.h"
#include "sluice/topics/spec.h"

namespace sluice::stages {

// A longer line on a child's stdout is a protocol error (it would otherwise
// grow the reader's buffer without bound).
inline constexpr size_t kMaxExecLineBytes = size_t{16} * 1024 * 1024;

struct ExecOptions {
  using Millis = std::chrono::milliseconds;
  Millis close_grace{5000};         // after stdin closes, until SIGTERM
  Millis term_grace{2000};          // after SIGTERM, until SIGKILL
  Millis restart_backoff_min{100};  // first restart delay; doubles per failure
  Millis restart_backoff_max{5000};
  Millis healthy_after{10000};  // a child that answered a task, or lived this long, resets it
  Millis startup_probe{2000};   // an unavailable stage's child up this long makes it available
  int startup_failures = 3;     // silent deaths in a row that make the stage unavailable
  size_t max_line_bytes = kMaxExecLineBytes;
};

// Uses spec.name, command, workdir, env, inherit_env, concurrency, timeout
// and max_outputs. The command must not be empty (make_stage() checks; here
// it is an invariant).
std::unique_ptr<Stage> make_exec_stage(const topics::StageSpec& spec, ExecOptions options = {});

// The path the stage's program would run from, found as the child will find
// it (spec.workdir, PATH of the child's environment); a kUsage error naming
// the program when there is none (check_exec_programs, in registry.h, says
// where in the spec).
Result<std::string> find_stage_program(const topics::StageSpec& spec);

}  // namespace sluice::stages
