// RecentIds: the job ids `sluice serve` gave the last `capacity`
// idempotency keys, so that a client that retries a request (its answer was
// lost) gets the same ids back and no job twice. In memory: it spans one
// serve process, and a key older than the last `capacity` is forgotten.
// Thread-safe.
#pragma once

#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace sluice::ops {

class RecentIds {
 public:
  explicit RecentIds(size_t capacity) : capacity_(capacity) {}

  std::optional<std::string> find(const std::string& idempotency_key);
  void remember(const std::string& idempotency_key, const std::string& job_id);

 private:
  using Order = std::list<std::string>;  // keys, the most recent first
  struct Entry {
    std::string job_id;
    Order::iterator position;
  };
  size_t capacity_;
  std::mutex mutex_;
  Order order_;
  std::unordered_map<std::string, Entry> ids_;
};

}  // namespace sluice::ops
