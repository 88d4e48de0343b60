// CircuitBreaker: one stage's breaker over its topics::CircuitPolicy.
//
// The worker reports every ended attempt (record_success / record_failure)
// and asks may_start before starting a task. The breaker reads no clock:
// every call takes `now`, so tests drive time. Single-threaded: the worker
// loop owns it. A disabled policy (`circuit: off`) never opens.
//
//   state       may_start                    leaves when
//   kClosed     yes                          >= `failures` failed attempts in the
//                                            last `window`, and >= `failure_rate`
//                                            percent of the attempts ended in it
//                                            -> kOpen
//   kOpen       no                           `cool_down` passed -> kHalfOpen
//   kHalfOpen   while fewer than kProbes     a success -> kClosed (window cleared);
//               probes started this round    the round's last running probe failed
//                                            -> kOpen (a fresh cool_down)
//
// The window is a ring of kBuckets time buckets (counts, not one entry per
// attempt), so it covers between 9/10 of `window` and all of it.
//
// Attempts that started before the circuit opened may end while it is open
// or half-open: in kOpen their results are ignored; in kHalfOpen a success
// closes (the service answered) and a failure counts as a probe's (at worst
// the round ends early, which keeps the service unloaded).
//
// The worker learns of changes through take_changes(now) (the open ->
// half-open change happens with time alone: call it when open_until() has
// passed) and logs each with describe().
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/topics/spec.h"

namespace sluice::engine {

enum class CircuitState { kClosed, kOpen, kHalfOpen };

const char* circuit_state_name(CircuitState state);

struct CircuitChange {
  CircuitState from = CircuitState::kClosed;
  CircuitState to = CircuitState::kClosed;
  // To kOpen: the failed and ended attempts that opened it (from kClosed:
  // in the window; from kHalfOpen: the round's probes). Else 0.
  int failures = 0;
  int attempts = 0;
};

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kProbes = 3;
  static constexpr int kBuckets = 10;

  explicit CircuitBreaker(const topics::CircuitPolicy& policy);

  void record_success(Clock::time_point now);
  // Returns whether the failed attempt is charged against the task's
  // max_attempts: false when it ended while the circuit was open or
  // half-open (a probe's failure included), true otherwise (also for the
  // failure that opens it).
  [[nodiscard]] bool record_failure(Clock::time_point now);

  // A started attempt ended with no verdict on the service (the stage
  // refused it for capacity, or its partition went while it ran): in
  // kHalfOpen its probe slot is given back, so the round can still end.
  void abandoned(Clock::time_point now);

  bool may_start(Clock::time_point now) const;
  // A task started (may_start(now) was true): in kHalfOpen, a probe.
  void started(Clock::time_point now);

  CircuitState state(Clock::time_point now) const;
  bool is_open_or_probing(Clock::time_point now) const {
    return state(now) != CircuitState::kClosed;
  }
  // When the current kOpen ends; meaningless in other states.
  Clock::time_point open_until() const { return open_until_; }

  // The state changes since the last call, oldest first.
  std::vector<CircuitChange> take_changes(Clock::time_point now);
  // One line for the log: "circuit opened: 20 of 25 attempts failed in 30s;
  // no task starts for 30s".
  std::string describe(const CircuitChange& change) const;

 private:
  struct Bucket {
    int64_t slot = INT64_MIN;  // which bucket-width interval of time it counts
    int failures = 0;
    int attempts = 0;
  };
  struct WindowCounts {
    int failures = 0;
    int attempts = 0;
  };

  // kOpen -> kHalfOpen once cool_down has passed.
  void advance(Clock::time_point now);
  void count(Clock::time_point now, bool failed);
  WindowCounts window_counts(Clock::time_point now) const;
  bool should_open(const WindowCounts& counts) const;
  void open(Clock::time_point now, const WindowCounts& why);
  void close();
  void change(CircuitState to, const WindowCounts& why);
  int64_t slot_of(Clock::time_point now) const;

  topics::CircuitPolicy policy_;
  Clock::duration bucket_width_;
  std::array<Bucket, kBuckets> buckets_{};
  CircuitState state_ = CircuitState::kClosed;
  Clock::time_point open_until_{};
  int probes_started_ = 0;  // this half-open round
  int probes_running_ = 0;
  std::vector<CircuitChange> changes_;  // not yet taken
};

}  // namespace sluice::engine
