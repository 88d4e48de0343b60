// wait_until(): waits for a condition with a deadline, for state that
// another thread changes without offering anything to wait on (an
// observer's counter). Checks every 10 ms; true as soon as it holds.
#pragma once

#include <chrono>
#include <thread>

namespace sluice::testing {

template <typename Condition>
bool wait_until(Condition&& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace sluice::testing
