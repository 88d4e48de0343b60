#include "retry_delay.h"

#include <algorithm>
#include <random>

namespace sluice::engine {

std::chrono::milliseconds retry_delay(const topics::RetryPolicy& policy, uint32_t failed_attempt,
                                      std::chrono::milliseconds retry_after, double unit_random) {
  uint32_t doublings = std::min<uint32_t>(failed_attempt == 0 ? 0 : failed_attempt - 1, 40);
  double cap = static_cast<double>(policy.max_backoff.count());
  double base = std::min(static_cast<double>(policy.backoff.count()) *
                             static_cast<double>(uint64_t{1} << doublings),
                         cap);
  auto jittered = std::chrono::milliseconds(
      static_cast<int64_t>(base * std::clamp(unit_random, 0.0, 1.0)));
  return std::max(jittered, retry_after);
}

std::chrono::milliseconds retry_delay(const topics::RetryPolicy& policy, uint32_t failed_attempt,
                                      std::chrono::milliseconds retry_after) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return retry_delay(policy, failed_attempt, retry_after,
                     std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}

}  // namespace sluice::engine
