// How long a poll may block for something due after `until`, in whole
// milliseconds for librdkafka's timeouts.
#pragma once

#include <algorithm>
#include <chrono>

namespace sluice::engine {

// Rounded up, so that the poll does not return before the due time: rounded
// down, the last millisecond before a retry or a timeout came due was a busy
// loop of zero-timeout polls. Never negative, never over `cap_ms`.
inline int wait_millis(std::chrono::nanoseconds until, int cap_ms) {
  auto millis = std::chrono::ceil<std::chrono::milliseconds>(until).count();
  return static_cast<int>(std::clamp<decltype(millis)>(millis, 0, cap_ms));
}

}  // namespace sluice::engine
