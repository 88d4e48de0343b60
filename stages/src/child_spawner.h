// fork() and exec for exec-stage children, with what posix_spawn cannot do:
// the child asks for SIGKILL when the worker dies (PR_SET_PDEATHSIG), so a
// worker killed with -9 leaves no child running.
//
// Why a thread of its own: Linux sends the parent-death signal when the
// *thread* that forked the child exits, and a stage's supervisor thread ends
// at close while its child still finishes its last tasks. Every fork runs on
// one thread that lives as long as the process.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sluice/status.h"

namespace sluice::stages {

struct ForkRequest {
  std::string program;             // a path (resolved; see find_program)
  std::vector<std::string> argv;   // argv[0] as the user wrote it
  std::vector<std::string> env;    // "NAME=value", the child's whole environment
  std::string workdir;             // empty: the worker's cwd
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // dup2'ed onto 0, 1, 2
};

// The child runs in a process group of its own, with every signal at its
// default and none blocked, and only descriptors 0-2 open. A failed chdir
// or exec is reported here (errno text), not as an exit status later.
Result<pid_t> fork_child(const ForkRequest& request);

}  // namespace sluice::stages
