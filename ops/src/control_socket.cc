#include "control_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace sluice::ops {
namespace {

constexpr size_t kMaxLine = 4096;

std::string errno_text() { return std::strerror(errno); }

Result<sockaddr_un> address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return usage_error("control socket path too long: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// One line (without its newline) from `fd`, or what came before EOF or the
// deadline.
std::string read_line(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char c;
  while (line.size() < kMaxLine) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    struct pollfd p = {fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    if (::read(fd, &c, 1) != 1 || c == '\n') break;
    line += c;
  }
  return line;
}

void write_all(int fd, std::string text) {
  text += '\n';
  const char* data = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::send(fd, data, left, MSG_NOSIGNAL);
    if (n <= 0) return;
    data += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

std::string control_socket_path(const std::string& pipeline) {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::filesystem::path dir = runtime && *runtime
                                  ? std::filesystem::path(runtime) / "sluice"
                                  : std::filesystem::path("/tmp") /
                                        ("sluice-" + std::to_string(::getuid()));
  return (dir / (pipeline + ".sock")).string();
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(const std::string& path,
                                                            Handler handler) {
  auto address = address_of(path);
  if (!address.is_ok()) return address.status();
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  ::chmod(dir.c_str(), 0700);
  // A socket file nobody answers on is left by a supervisor that died: take
  // it over. One that answers belongs to a supervisor that runs.
  if (std::filesystem::exists(path)) {
    if (control_request(path, "workers", std::chrono::milliseconds(1000)).is_ok()) {
      return usage_error("a `sluice up` of this pipeline already runs (control socket " + path +
                         ")");
    }
    ::unlink(path.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(StatusCode::kFatal, "control socket: " + errno_text());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof(sockaddr_un)) != 0 ||
      ::listen(fd, 8) != 0) {
    std::string why = errno_text();
    ::close(fd);
    return usage_error("cannot listen on the control socket " + path + ": " + why);
  }
  return std::make_unique<ControlServer>(path, fd, std::move(handler));
}

ControlServer::ControlServer(std::string path, int fd, Handler handler)
    : path_(std::move(path)), fd_(fd), handler_(std::move(handler)) {
  thread_ = std::thread([this] { run(); });
}

ControlServer::~ControlServer() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
  ::unlink(path_.c_str());
}

void ControlServer::run() {
  while (!stop_.load()) {
    struct pollfd p = {fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::string line = read_line(client, std::chrono::milliseconds(2000));
    write_all(client, handler_(line));
    ::close(client);
  }
}

Result<std::string> control_request(const std::string& path, const std::string& line,
                                    std::chrono::milliseconds timeout) {
  auto address = address_of(path);
  if (!address.is_ok()) return address.status();
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(StatusCode::kFatal, "control socket: " + errno_text());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof(sockaddr_un)) != 0) {
    std::string why = errno_text();
    ::close(fd);
    return not_found("no `sluice up` answers on " + path + " (" + why +
                     "); start one with `sluice up -f SPEC`");
  }
  write_all(fd, line);
  std::string answer = read_line(fd, timeout);
  ::close(fd);
  if (answer.empty()) return transient_error("no answer on the control socket " + path);
  return answer;
}

}  // namespace sluice::ops
