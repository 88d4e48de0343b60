// Helpers for the stages tests: build tasks, collect outcomes and wait for
// them (or for a log line) with a deadline instead of sleeping.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sluice/stage.h"

namespace sluice::stages::testing {

using namespace std::chrono_literals;

inline Task json_task(std::string id, std::string payload, uint32_t attempt = 1) {
  Task task;
  task.job_id = "job-" + id;
  task.id = std::move(id);
  task.key = "key-1";
  task.attempt = attempt;
  task.content_type = kJsonContentType;
  task.payload = std::move(payload);
  return task;
}

// One key's state (and its partition's), held in maps: what a stateful
// stage's task sees, without a store. Writes apply at once (the engine's
// staging is tested with the engine).
class MapState final : public StageState {
 public:
  Result<std::optional<std::string>> get(std::string_view name, Scope scope) const override {
    const auto& map = of(scope);
    auto it = map.find(std::string(name));
    return it == map.end() ? std::optional<std::string>() : it->second;
  }
  Status put(std::string_view name, std::string value, Scope scope) override {
    of(scope)[std::string(name)] = std::move(value);
    return Status::ok();
  }
  void erase(std::string_view name, Scope scope) override { of(scope).erase(std::string(name)); }
  Status scan(std::string_view prefix, const Visitor& each, Scope scope) const override {
    const auto& map = of(scope);
    for (auto it = map.lower_bound(std::string(prefix));
         it != map.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (!each(it->first, it->second)) break;
    }
    return Status::ok();
  }

  std::map<std::string, std::string> values;            // Scope::kKey
  std::map<std::string, std::string> partition_values;  // Scope::kPartition

 private:
  std::map<std::string, std::string>& of(Scope scope) {
    return scope == Scope::kKey ? values : partition_values;
  }
  const std::map<std::string, std::string>& of(Scope scope) const {
    return scope == Scope::kKey ? values : partition_values;
  }
};

// Records every outcome, by task id, in completion order.
class Outcomes {
 public:
  Completion done_for(const std::string& id) {
    return [this, id](Outcome outcome) {
      std::lock_guard lock(mu_);
      outcomes_.emplace(id, std::move(outcome));
      order_.push_back(id);
      cv_.notify_all();
    };
  }
  std::optional<Outcome> wait_for(const std::string& id, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return outcomes_.count(id) != 0; })) return std::nullopt;
    return outcomes_.find(id)->second;
  }
  std::vector<std::string> order() {
    std::lock_guard lock(mu_);
    return order_;
  }
  size_t count(const std::string& id) {
    std::lock_guard lock(mu_);
    return outcomes_.count(id);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::string, Outcome> outcomes_;
  std::vector<std::string> order_;
};

// An spdlog sink that keeps messages and lets a test wait for one.
class CaptureSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(seen_mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const auto& m : messages_) {
        if (m.find(needle) != std::string::npos) return true;
      }
      return false;
    });
  }
  // The first message containing `needle`.
  std::optional<std::string> find(const std::string& needle) {
    std::lock_guard lock(seen_mu_);
    for (const auto& m : messages_) {
      if (m.find(needle) != std::string::npos) return m;
    }
    return std::nullopt;
  }
  size_t count(const std::string& needle) {
    std::lock_guard lock(seen_mu_);
    size_t n = 0;
    for (const auto& m : messages_) n += m.find(needle) != std::string::npos;
    return n;
  }
  std::string dump() {
    std::lock_guard lock(seen_mu_);
    std::string all;
    for (const auto& m : messages_) all += m + "\n";
    return all;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::lock_guard lock(seen_mu_);
    messages_.emplace_back(msg.payload.data(), msg.payload.size());
    cv_.notify_all();
  }
  void flush_() override {}

 private:
  std::mutex seen_mu_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
};

// Routes the default logger to a CaptureSink for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<CaptureSink>()), previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  CaptureSink& sink() { return *sink_; }

 private:
  std::shared_ptr<CaptureSink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace sluice::stages::testing
