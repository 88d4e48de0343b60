// TaskTable: the tasks an ExecStage holds, each either pending (queued for
// the writer, in arrival order) or in flight in one child generation (its
// line was handed to that child's writer). Each entry carries the `done`
// that completes it and, once in flight, its deadline (the stage's timeout
// bounds the time in the child, not the wait for one). Removing an entry
// hands its `done` back to the caller, who calls it once, after releasing
// the lock: that is how every task ends exactly once.
//
// Suspects: tasks that were in a child that died holding several. They go
// back to the front of the queue, keep their line, and (ExecStage's rule)
// run one at a time, so that the one that kills a child is found and only
// it is charged an attempt.
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
  bool has_suspects() const { return suspects_ != 0; }
  size_t in_flight(uint64_t generation) const;

  // Queues a task; `id` must not be in the table.
  void add(std::string id, std::string line, Completion done);

  // Puts the oldest pending task (only if it is a suspect, with
  // suspects_only) in flight in `generation` until `deadline`, and returns a
  // copy of its line (kept: a suspect may have to be written again).
  std::optional<std::string> start_next(uint64_t generation, Clock::time_point deadline,
                                        bool suspects_only = false);

  // Removes a task in flight in `generation`; nullopt if there is none by that id.
  std::optional<Completion> finish(const std::string& id, uint64_t generation);
  // Removes a task wherever it is.
  std::optional<Completion> take(const std::string& id);

  // Puts every task in flight in `generation` back at the front of the
  // queue, in the order they started; as suspects, with `note` for the error
  // of the one found guilty. Returns how many.
  size_t requeue_in_flight(uint64_t generation, bool as_suspects, const std::string& note);
  // The ids in flight in `generation`.
  std::vector<std::string> ids_in_flight(uint64_t generation) const;
  // The note of a suspect; nullopt for a task that is none.
  std::optional<std::string> suspect_note(const std::string& id) const;

  std::vector<Completion> take_pending();
  std::vector<Completion> take_all();

  // Of the tasks in flight in `generation` whose deadline has passed, the
  // one that started first: the others may only have waited behind it.
  std::optional<std::string> expired_in_flight(uint64_t generation, Clock::time_point now) const;
  // Of the tasks in flight.
  std::optional<Clock::time_point> earliest_deadline() const;

 private:
  struct Entry {
    std::string line;
    Completion done;
    Clock::time_point deadline = Clock::time_point::max();
    uint64_t generation = 0;  // 0: pending
    uint64_t started = 0;     // order of start_next calls, for requeueing
    bool suspect = false;
    std::string suspect_note;
  };
  template <typename Pred>
  std::vector<Completion> take_if(Pred pred);
  void erase(std::unordered_map<std::string, Entry>::iterator it);

  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> pending_;  // ids, oldest first (suspects at the front)
  size_t suspects_ = 0;
  uint64_t starts_ = 0;
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
