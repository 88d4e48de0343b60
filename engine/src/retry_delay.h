// How long a failed task waits before its next attempt (DESIGN.md, Failures).
#pragma once

#include <chrono>
#include <cstdint>

#include "sluice/topics/spec.h"

namespace sluice::engine {

// After attempt `failed_attempt` (1-based) failed: backoff * 2^(n-1), capped
// at max_backoff, with full jitter (uniform in [0, that]: a crowd of tasks
// that failed together spreads out instead of retrying in lockstep, AWS's
// "Exponential Backoff and Jitter"); a `retry_after` from the stage wins
// when it is larger. `unit_random` is a sample in [0, 1).
std::chrono::milliseconds retry_delay(const topics::RetryPolicy& policy, uint32_t failed_attempt,
                                      std::chrono::milliseconds retry_after, double unit_random);

// The same with a sample from this thread's generator.
std::chrono::milliseconds retry_delay(const topics::RetryPolicy& policy, uint32_t failed_attempt,
                                      std::chrono::milliseconds retry_after);

}  // namespace sluice::engine
