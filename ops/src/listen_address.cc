#include "listen_address.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::ops {
namespace {

bool valid_port(const std::string& port) {
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  int value = std::stoi(port);
  return value >= 1 && value <= 65535;
}

}  // namespace

Result<std::string> listen_address(const std::string& given) {
  size_t colon = given.rfind(':');
  std::string port = colon == std::string::npos ? given : given.substr(colon + 1);
  if (!valid_port(port)) {
    return usage_error("--metrics-addr '" + given + "': want HOST:PORT or PORT (1-65535)");
  }
  return colon == std::string::npos ? "127.0.0.1:" + given : given;
}

std::optional<std::string> bind_failure(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int err = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      err != 0) {
    return std::string(gai_strerror(err));
  }
  std::optional<std::string> failure;
  int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0) {
    failure = std::strerror(errno);
  } else {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // as civetweb does
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) failure = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  return failure;
}

}  // namespace sluice::ops
