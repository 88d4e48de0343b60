#include "recent_ids.h"

namespace sluice::ops {

std::optional<std::string> RecentIds::find(const std::string& idempotency_key) {
  std::lock_guard lock(mutex_);
  auto it = ids_.find(idempotency_key);
  if (it == ids_.end()) return std::nullopt;
  order_.splice(order_.begin(), order_, it->second.position);
  return it->second.job_id;
}

void RecentIds::remember(const std::string& idempotency_key, const std::string& job_id) {
  std::lock_guard lock(mutex_);
  if (capacity_ == 0 || ids_.contains(idempotency_key)) return;
  order_.push_front(idempotency_key);
  ids_[idempotency_key] = {job_id, order_.begin()};
  if (ids_.size() > capacity_) {
    ids_.erase(order_.back());
    order_.pop_back();
  }
}

}  // namespace sluice::ops
