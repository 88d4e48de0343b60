// The control socket of `sluice up`: a Unix stream socket on which `sluice
// scale` (and scripts) send one line and read one line back:
//   "scale STAGE N"  ->  "ok" | "error MESSAGE"
//   "workers"        ->  "ok STAGE=N STAGE=N ..."
// Its path: $XDG_RUNTIME_DIR/sluice/<pipeline>.sock, else
// /tmp/sluice-<uid>/<pipeline>.sock (a directory only its user may enter).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "sluice/status.h"

namespace sluice::ops {

std::string control_socket_path(const std::string& pipeline);

class ControlServer {
 public:
  using Handler = std::function<std::string(const std::string& line)>;
  // kUsage when another supervisor of the pipeline already listens there.
  static Result<std::unique_ptr<ControlServer>> start(const std::string& path, Handler handler);
  ControlServer(std::string path, int fd, Handler handler);
  ~ControlServer();  // stops, joins, removes the socket file
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  void run();

  std::string path_;
  int fd_;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sends `line`, returns the answer line. kNotFound when nothing listens at
// `path` ("no `sluice up` runs for this pipeline").
Result<std::string> control_request(const std::string& path, const std::string& line,
                                    std::chrono::milliseconds timeout);

}  // namespace sluice::ops
