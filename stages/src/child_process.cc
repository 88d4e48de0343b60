#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "fd_io.h"

extern char** environ;

namespace sluice::stages {

namespace {

// Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C", and older
// C libraries lack the wrapper. -1 when the kernel has no pidfd (< 5.3).
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  return -1;
#endif
}

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return transient_error(std::string("pipe2: ") + std::strerror(errno));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// RAII around posix_spawn's two C objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

// The child starts in its own process group, with no signal blocked and
// every signal at its default: whatever the engine ignores or blocks (it may
// ignore SIGPIPE, block SIGTERM for a signal thread) must not leak into it.
void configure(SpawnSetup& s, int in, int out, int err) {
  posix_spawn_file_actions_adddup2(&s.actions, in, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&s.actions, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&s.actions, err, STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
  // Belt and braces over O_CLOEXEC: a descriptor some library opened without
  // it (a socket, another child's pipe) must not keep it alive in our child.
  posix_spawn_file_actions_addclosefrom_np(&s.actions, STDERR_FILENO + 1);
#endif
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setsigdefault(&s.attr, &all);
  posix_spawnattr_setpgroup(&s.attr, 0);
  posix_spawnattr_setflags(&s.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const std::vector<std::string>& argv) {
  SLUICE_CHECK(!argv.empty(), "spawn needs a program");
  auto in = make_pipe(), out = make_pipe(), err = make_pipe();
  for (auto* p : {&in, &out, &err}) {
    if (!p->is_ok()) return p->status();
  }
  SpawnSetup setup;
  configure(setup, in->read.get(), out->write.get(), err->write.get());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), environ);
  if (rc != 0)
    return transient_error("cannot start [" + join_argv(argv) + "]: " + std::strerror(rc));
  for (int fd : {in->write.get(), out->read.get(), err->read.get()}) {
    Status st = set_nonblocking(fd);
    SLUICE_CHECK(st.is_ok(), st.message());
  }
  // The child's ends close here (Pipe destructors): EOF then means the child is gone.
  return std::unique_ptr<ChildProcess>(
      new ChildProcess(pid, std::move(in->write), std::move(out->read), std::move(err->read)));
}

ChildProcess::ChildProcess(pid_t pid, UniqueFd in, UniqueFd out, UniqueFd err)
    : pid_(pid),
      pidfd_(open_pidfd(pid)),
      stdin_(std::move(in)),
      stdout_(std::move(out)),
      stderr_(std::move(err)) {}

ChildProcess::~ChildProcess() { kill_and_reap(); }

int ChildProcess::kill_and_reap() {
  signal(SIGKILL);
  return wait_for_exit(std::chrono::hours(1)).value_or(-1);
}

bool ChildProcess::try_reap() {
  if (status_) return true;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) status_ = st;
  // ECHILD: someone else reaped it (waitpid(-1) elsewhere, or SIGCHLD set to
  // SIG_IGN). It is gone either way; -1 says "status unknown".
  if (r < 0 && errno == ECHILD) status_ = -1;
  return status_.has_value();
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (try_reap()) return status_;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    // pidfd turns readable when the child exits. Without it (old kernels),
    // poll the pid: this path only runs while a child is being stopped.
    auto slice = std::min<std::chrono::milliseconds>(left, std::chrono::milliseconds(100));
    if (pidfd_.valid()) {
      pollfd p{pidfd_.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(slice.count()));
    } else {
      std::this_thread::sleep_for(
          std::min<std::chrono::milliseconds>(slice, std::chrono::milliseconds(5)));
    }
  }
}

void ChildProcess::signal(int sig) {
  std::lock_guard lock(mu_);
  // A zombie keeps its pid, so until we reap it the group id is still ours.
  if (!try_reap()) ::kill(-pid_, sig);
}

std::string describe_exit(int wait_status) {
  if (wait_status < 0) return "exited (status unknown: reaped elsewhere)";
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "stopped with wait status " + std::to_string(wait_status);
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

}  // namespace sluice::stages
