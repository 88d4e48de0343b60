// Small blocking-I/O helpers over non-blocking pipe ends, each interruptible
// by a WakeFd so that tearing a child down never waits on a stuck pipe (a
// grandchild may keep a pipe open after the child itself is gone).
#pragma once

#include <string_view>

#include "sluice/status.h"
#include "unique_fd.h"

namespace sluice::stages {

// An eventfd that, once signalled, stays readable: every poll() that
// includes it returns at once, now and later.
class WakeFd {
 public:
  WakeFd();
  int get() const { return fd_.get(); }
  void signal();

 private:
  UniqueFd fd_;
};

// Result of waiting for a descriptor: ready, woken by the WakeFd, or an error.
enum class WaitResult { kReady, kWoken, kError };

// Waits until `fd` is ready for `events` (POLLIN/POLLOUT) or `wake_fd` is
// signalled. wake_fd may be -1.
WaitResult wait_for_fd(int fd, short events, int wake_fd);

Status set_nonblocking(int fd);

// Writes all of `data` to a non-blocking `fd`. Fails on EPIPE (the reader is
// gone) or when woken.
Status write_all(int fd, std::string_view data, int wake_fd);

}  // namespace sluice::stages
