#include "completion_queue.h"

#include <iterator>

namespace sluice::engine {

void CompletionQueue::push(uint64_t task_id, uint32_t run, Outcome outcome) {
  // A synchronous stage completes on the owner's thread, inside process():
  // no lock, and no wake-up (the owner drains right after).
  if (std::this_thread::get_id() == owner_) {
    owner_items_.push_back({task_id, run, std::move(outcome)});
    return;
  }
  std::lock_guard lock(mutex_);
  bool was_empty = items_.empty();
  items_.push_back({task_id, run, std::move(outcome)});
  // Only the first item needs to wake the loop; it drains everything. Called
  // under the lock, so clear_wake_hook() cannot race with it.
  if (was_empty && wake_) wake_();
}

void CompletionQueue::drain(std::vector<Completed>& out) {
  out.clear();
  out.swap(owner_items_);
  std::lock_guard lock(mutex_);
  if (out.empty()) {
    out.swap(items_);
    return;
  }
  std::move(items_.begin(), items_.end(), std::back_inserter(out));
  items_.clear();
}

// Called by the owner only.
bool CompletionQueue::empty() const {
  if (!owner_items_.empty()) return false;
  std::lock_guard lock(mutex_);
  return items_.empty();
}

}  // namespace sluice::engine
