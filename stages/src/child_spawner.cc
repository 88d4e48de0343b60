#include "child_spawner.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace sluice::stages {

namespace {

// The one thread that forks. Never destroyed: it may be blocked in wait()
// while the process exits, so its mutex must outlive static destructors.
class SpawnerThread {
 public:
  static SpawnerThread& instance() {
    static SpawnerThread* spawner = new SpawnerThread();
    return *spawner;
  }

  template <typename F>
  auto run(F work) -> decltype(work()) {
    std::packaged_task<decltype(work())()> task(std::move(work));
    auto result = task.get_future();
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back([&task] { task(); });
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  SpawnerThread() { std::thread(&SpawnerThread::loop, this).detach(); }

  void loop() {
    // Forked children start with every signal blocked, so that none of the
    // worker's handlers can run in them before they reset dispositions.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    for (;;) {
      std::function<void()> work;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty(); });
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

// In the forked child: tells the parent why, and exits.
[[noreturn]] void fail_in_child(int error_fd, int error) {
  ssize_t ignored = ::write(error_fd, &error, sizeof error);
  static_cast<void>(ignored);
  ::_exit(127);
}

// Between fork and exec only async-signal-safe calls: everything the child
// needs (argv and envp arrays) is built before the fork.
[[noreturn]] void become_child(const ForkRequest& r, char* const* argv, char* const* envp,
                               pid_t parent, int error_fd) {
  auto fail = [error_fd](int error) { fail_in_child(error_fd, error); };
  ::setpgid(0, 0);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
  if (::getppid() != parent) ::_exit(127);  // the worker died before prctl
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &defaults, nullptr);
  if (::dup2(r.stdin_fd, STDIN_FILENO) < 0 || ::dup2(r.stdout_fd, STDOUT_FILENO) < 0 ||
      ::dup2(r.stderr_fd, STDERR_FILENO) < 0) {
    fail(errno);
  }
  if (!r.workdir.empty() && ::chdir(r.workdir.c_str()) != 0) fail(errno);
  // A descriptor some library opened without O_CLOEXEC (a socket, another
  // child's pipe) must not leak into the child; the error pipe closes too.
  if (::syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = STDERR_FILENO + 1; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(r.program.c_str(), argv, envp);
  fail_in_child(error_fd, errno);
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

Result<pid_t> fork_here(const ForkRequest& r) {
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    return transient_error(std::string("pipe2: ") + std::strerror(errno));
  }
  std::vector<char*> argv = c_strings(r.argv), envp = c_strings(r.env);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) become_child(r, argv.data(), envp.data(), parent, error_pipe[1]);
  int fork_error = errno;
  ::close(error_pipe[1]);
  if (pid < 0) {
    ::close(error_pipe[0]);
    return transient_error(std::string("fork: ") + std::strerror(fork_error));
  }
  // EOF (exec closed the pipe) means the program runs; an int is its errno.
  int child_error = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &child_error, sizeof child_error);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (n == sizeof child_error) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    std::string where = r.workdir.empty() ? "" : " in " + r.workdir;
    return transient_error("cannot start " + r.program + where + ": " + std::strerror(child_error));
  }
  return pid;
}

}  // namespace

Result<pid_t> fork_child(const ForkRequest& request) {
  return SpawnerThread::instance().run([&request] { return fork_here(request); });
}

}  // namespace sluice::stages
