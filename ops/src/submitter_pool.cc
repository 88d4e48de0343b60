#include "submitter_pool.h"

namespace sluice::ops {

Result<std::unique_ptr<JobSubmitter>> SubmitterPool::acquire() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [this] { return !idle_.empty() || idle_.size() + in_use_ < max_; });
  ++in_use_;
  if (!idle_.empty()) {
    std::unique_ptr<JobSubmitter> submitter = std::move(idle_.back());
    idle_.pop_back();
    return submitter;
  }
  lock.unlock();
  auto made = JobSubmitter::create(spec_, kafka_);
  if (!made.is_ok()) {
    release(nullptr, false);
    return made.status();
  }
  return std::move(made).value();
}

void SubmitterPool::release(std::unique_ptr<JobSubmitter> submitter, bool healthy) {
  {
    std::lock_guard lock(mutex_);
    --in_use_;
    if (submitter && healthy) idle_.push_back(std::move(submitter));
  }
  freed_.notify_one();
  // An unhealthy one is destroyed here, outside the lock: that waits for
  // its producer's threads.
}

}  // namespace sluice::ops
