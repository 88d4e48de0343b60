#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "child_spawner.h"
#include "fd_io.h"
#include "program_path.h"

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

// The worker's environment, as "NAME=value" strings.
std::vector<std::string> worker_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const std::vector<std::string>& argv,
                                                          const ChildSetup& setup) {
  SLUICE_CHECK(!argv.empty(), "spawn needs a program");
  ForkRequest request;
  request.argv = argv;
  request.env = setup.env ? *setup.env : worker_environment();
  request.workdir = setup.workdir;
  Result<std::string> program = find_program(argv[0], setup.workdir, path_list_of(request.env));
  if (!program.is_ok()) {
    return transient_error("cannot start [" + join_argv(argv) + "]: " + program.status().message());
  }
  request.program = std::move(program).value();
  auto in = make_pipe(), out = make_pipe(), err = make_pipe();
  for (auto* p : {&in, &out, &err}) {
    if (!p->is_ok()) return p->status();
  }
  request.stdin_fd = in->read.get();
  request.stdout_fd = out->write.get();
  request.stderr_fd = err->write.get();
  Result<pid_t> pid = fork_child(request);
  if (!pid.is_ok()) {
    return transient_error("cannot start [" + join_argv(argv) + "]: " + pid.status().message());
  }
  for (int fd : {in->write.get(), out->read.get(), err->read.get()}) {
    Status st = set_nonblocking(fd);
    SLUICE_CHECK(st.is_ok(), st.message());
  }
  // The child's ends close here (Pipe destructors): EOF then means the child is gone.
  return std::unique_ptr<ChildProcess>(
      new ChildProcess(*pid, std::move(in->write), std::move(out->read), std::move(err->read)));
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
  if (r == pid_) {
    status_ = st;
    // Its grandchildren die with it. The group id cannot have been reused:
    // a pid stays taken while a group of that id has members.
    ::kill(-pid_, SIGKILL);
  }
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
    // pidfd turns readable when the child exits, so one poll waits it out
    // (the exit watcher waits a child's whole life here). Without it (old
    // kernels), poll the pid: often at first (a stop), then every 100 ms.
    using std::chrono::milliseconds;
    if (pidfd_.valid()) {
      pollfd p{pidfd_.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<milliseconds>(left, std::chrono::hours(1)).count()));
    } else {
      bool early = std::chrono::steady_clock::now() - (deadline - timeout) < std::chrono::seconds(1);
      std::this_thread::sleep_for(std::min<milliseconds>(left, milliseconds(early ? 5 : 100)));
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
