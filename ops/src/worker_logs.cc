#include "worker_logs.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace sluice::ops {
namespace {

std::mutex& stderr_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Writes the whole lines of `pending` (all of it at EOF), each as
// worker_log_line() makes it.
void flush_lines(const std::string& worker, bool json, std::string& pending, bool eof) {
  size_t start = 0;
  std::lock_guard lock(stderr_mutex());
  auto write = [&](std::string_view line) {
    std::string text = worker_log_line(worker, line, json);
    std::fprintf(stderr, "%s\n", text.c_str());
  };
  for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
    write(std::string_view(pending).substr(start, end - start));
  }
  if (eof && start < pending.size()) {
    write(std::string_view(pending).substr(start));
    start = pending.size();
  }
  pending.erase(0, start);
  // A line longer than this is cut rather than held without bound.
  if (pending.size() > 65536) {
    write(pending);
    pending.clear();
  }
}

}  // namespace

std::string worker_log_line(const std::string& worker, std::string_view line, bool json) {
  if (!json) return worker + " | " + std::string(line);
  // The worker's own JSON line gains a first field; anything else (a crash's
  // last words, a child's stray output) is wrapped, so every line parses.
  if (line.size() >= 2 && line.front() == '{' && line.back() == '}') {
    std::string head = "{\"worker\":" + nlohmann::json(worker).dump();
    std::string_view fields = line.substr(1, line.size() - 2);
    bool none = fields.find_first_not_of(' ') == std::string_view::npos;
    return none ? head + "}" : head + "," + std::string(line.substr(1));
  }
  nlohmann::ordered_json wrapped = {{"worker", worker}, {"message", std::string(line)}};
  return wrapped.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

WorkerLogs::WorkerLogs(std::string prefix, bool json, stages::UniqueFd out, stages::UniqueFd err)
    : prefix_(std::move(prefix)), json_(json), out_(std::move(out)), err_(std::move(err)) {
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
        flush_lines(prefix_, json_, pending[i], false);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        flush_lines(prefix_, json_, pending[i], true);
        fds[i].fd = -1;  // poll ignores it from now on
        --open;
      }
    }
  }
}

}  // namespace sluice::ops
