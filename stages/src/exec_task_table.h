// TaskTable: the tasks an ExecStage holds, each either pending (queued for
// the writer, in arrival order) or in flight in one child generation (its
// line was handed to that child's writer). Each entry carries the `done`
// that completes it and its deadline. Removing an entry hands its `done`
// back to the caller, who calls it once, after releasing the lock: that is
// how every task ends exactly once.
//
// Plain data structure: not thread-safe (ExecStage's mutex guards it). At
// most `concurrency` entries, so the linear scans stay cheap.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/stage.h"

namespace sluice::stages {

class TaskTable {
 public:
  using Clock = std::chrono::steady_clock;

  size_t size() const { return entries_.size(); }
  bool contains(const std::string& id) const { return entries_.count(id) != 0; }
  bool has_pending() const { return !pending_.empty(); }

  // Queues a task; `id` must not be in the table.
  void add(std::string id, std::string line, Completion done, Clock::time_point deadline);

  // Moves the oldest pending task in flight in `generation` and returns its line.
  std::optional<std::string> start_next(uint64_t generation);

  // Removes a task in flight in `generation`; nullopt if there is none by that id.
  std::optional<Completion> finish(const std::string& id, uint64_t generation);

  std::vector<Completion> take_in_flight(uint64_t generation);
  std::vector<Completion> take_pending();
  std::vector<Completion> take_expired_pending(Clock::time_point now);
  std::vector<Completion> take_all();

  // Id of a task in flight in `generation` whose deadline has passed.
  std::optional<std::string> expired_in_flight(uint64_t generation, Clock::time_point now) const;
  std::optional<Clock::time_point> earliest_deadline() const;

 private:
  struct Entry {
    std::string line;  // emptied once the writer takes it
    Completion done;
    Clock::time_point deadline;
    uint64_t generation = 0;  // 0: pending
  };
  template <typename Pred>
  std::vector<Completion> take_if(Pred pred);

  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> pending_;  // ids, oldest first
};

}  // namespace sluice::stages

namespace sluice::stages {

// Completions gathered while a lock is held, run once it is released, so
// that `done` never runs under a stage's lock (it may call process()).
class CompletionBatch {
 public:
  CompletionBatch() = default;
  CompletionBatch(const CompletionBatch&) = delete;
  CompletionBatch& operator=(const CompletionBatch&) = delete;
  ~CompletionBatch() { SLUICE_CHECK(items_.empty(), "completions dropped without running"); }

  void add(Completion done, Outcome outcome) {
    items_.emplace_back(std::move(done), std::move(outcome));
  }
  void add_all(std::vector<Completion> dones, const Outcome& outcome) {
    for (auto& done : dones) add(std::move(done), outcome);
  }
  void run() {
    auto items = std::move(items_);
    items_.clear();
    for (auto& [done, outcome] : items) done(std::move(outcome));
  }

 private:
  std::vector<std::pair<Completion, Outcome>> items_;
};

}  // namespace sluice::stages
