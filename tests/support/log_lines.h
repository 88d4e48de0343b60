// LogLines: keeps what the engine logs through spdlog's default logger, so
// a fault test can assert what a worker did where no observer event says it
// (a transaction aborted, a producer rebuilt). Installed once per process
// (each gtest case runs in a process of its own under ctest), before the
// test starts any thread that logs.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::testing {

class LogLines : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // The process's one instance, added to the default logger's sinks.
  static LogLines& install() {
    static std::shared_ptr<LogLines> lines = [] {
      auto made = std::make_shared<LogLines>();
      spdlog::default_logger()->sinks().push_back(made);
      return made;
    }();
    return *lines;
  }

  // How many lines logged so far contain `fragment`.
  size_t count(std::string_view fragment) {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const auto& line) {
      return line.find(fragment) != std::string::npos;
    }));
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;  // guarded by base_sink's mutex_
};

}  // namespace sluice::testing
