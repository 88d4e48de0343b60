#include "worker_logs.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace sluice::ops {
namespace {

std::mutex& stderr_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Writes the whole lines of `pending` (all of it at EOF), prefixed.
void flush_lines(const std::string& prefix, std::string& pending, bool eof) {
  size_t start = 0;
  std::lock_guard lock(stderr_mutex());
  for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
    std::fprintf(stderr, "%s | %.*s\n", prefix.c_str(), static_cast<int>(end - start),
                 pending.data() + start);
  }
  if (eof && start < pending.size()) {
    std::fprintf(stderr, "%s | %s\n", prefix.c_str(), pending.c_str() + start);
    start = pending.size();
  }
  pending.erase(0, start);
  // A line longer than this is cut rather than held without bound.
  if (pending.size() > 65536) {
    std::fprintf(stderr, "%s | %s\n", prefix.c_str(), pending.c_str());
    pending.clear();
  }
}

}  // namespace

WorkerLogs::WorkerLogs(std::string prefix, stages::UniqueFd out, stages::UniqueFd err)
    : prefix_(std::move(prefix)), out_(std::move(out)), err_(std::move(err)) {
  thread_ = std::thread([this] { run(); });
}

WorkerLogs::~WorkerLogs() { thread_.join(); }

void WorkerLogs::run() {
  std::string pending[2];
  struct pollfd fds[2] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}};
  int open = (fds[0].fd >= 0) + (fds[1].fd >= 0);
  char buffer[8192];
  while (open > 0) {
    if (::poll(fds, 2, 1000) < 0) continue;  // EINTR
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        pending[i].append(buffer, static_cast<size_t>(n));
        flush_lines(prefix_, pending[i], false);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        flush_lines(prefix_, pending[i], true);
        fds[i].fd = -1;  // poll ignores it from now on
        --open;
      }
    }
  }
}

}  // namespace sluice::ops
