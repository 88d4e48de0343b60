#include "completion_queue.h"

namespace sluice::engine {

void CompletionQueue::push(uint64_t task_id, Outcome outcome) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = items_.empty();
    items_.push_back({task_id, std::move(outcome)});
  }
  // Only the first item needs to wake the loop; it drains everything.
  if (was_empty && wake_ && std::this_thread::get_id() != owner_) wake_();
}

void CompletionQueue::drain(std::vector<Completed>& out) {
  out.clear();
  std::lock_guard lock(mutex_);
  out.swap(items_);
}

bool CompletionQueue::empty() const {
  std::lock_guard lock(mutex_);
  return items_.empty();
}

}  // namespace sluice::engine
