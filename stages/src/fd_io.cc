#include "fd_io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace sluice::stages {

WakeFd::WakeFd() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  SLUICE_CHECK(fd_.valid(), std::string("eventfd: ") + std::strerror(errno));
}

void WakeFd::signal() {
  uint64_t one = 1;
  // Never read, so the counter only grows: the fd stays readable for good.
  [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof one);
}

WaitResult wait_for_fd(int fd, short events, int wake_fd) {
  pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return WaitResult::kError;
    if (fds[1].revents != 0) return WaitResult::kWoken;
    // POLLHUP/POLLERR count as ready: the following read/write reports them.
    if (fds[0].revents != 0) return WaitResult::kReady;
  }
}

Status set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return fatal_error(std::string("fcntl(O_NONBLOCK): ") + std::strerror(errno));
  }
  return Status::ok();
}

Status write_all(int fd, std::string_view data, int wake_fd) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      return transient_error(std::string("write: ") + std::strerror(errno));
    }
    WaitResult w = wait_for_fd(fd, POLLOUT, wake_fd);
    if (w == WaitResult::kWoken) return cancelled("write interrupted");
    if (w == WaitResult::kError) return transient_error("poll failed");
  }
  return Status::ok();
}

}  // namespace sluice::stages
