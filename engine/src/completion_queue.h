// CompletionQueue: hands stage outcomes from any thread to the worker loop.
//
// Stages call their Completion from their own threads (an exec child's
// reader, a pool); the worker drains the queue on its thread, so all engine
// state stays single-threaded. push() wakes the worker's blocking poll via the
// wake hook. The queue must outlive every stage that may still call push():
// the worker closes (joins) its stage before destroying the queue.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sluice/stage.h"

namespace sluice::engine {

struct Completed {
  uint64_t task_id;
  // Which run (attempt) of the task this outcome ends: an outcome that
  // arrives after its run timed out, while the task runs again, is not the
  // new run's.
  uint32_t run;
  Outcome outcome;
};

class CompletionQueue {
 public:
  // `wake` runs when a push from another thread than `owner` finds the queue
  // empty. Pushes from the owner itself (a synchronous stage completing
  // inside process()) need no wake-up: the owner drains right after, and a
  // needless yield would make its next consumer poll return empty.
  // Set before any stage runs.
  void set_wake_hook(std::function<void()> wake, std::thread::id owner) {
    std::lock_guard lock(mutex_);
    wake_ = std::move(wake);
    owner_ = owner;
  }
  // After this returns, no push() is inside the hook nor calls it again: what
  // the hook points at (the consumer's queue) may then be destroyed.
  void clear_wake_hook() {
    std::lock_guard lock(mutex_);
    wake_ = nullptr;
  }

  void push(uint64_t task_id, uint32_t run, Outcome outcome);
  // Moves everything queued into `out` (cleared first). Owner only.
  void drain(std::vector<Completed>& out);
  // Owner only.
  bool empty() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Completed> items_;        // pushed by other threads, under mutex_
  std::vector<Completed> owner_items_;  // pushed by the owner: no lock needed
  std::function<void()> wake_;  // under mutex_
  std::thread::id owner_;
};

}  // namespace sluice::engine
