#include "circuit_breaker.h"

#include <algorithm>

#include "sluice/status.h"

namespace sluice::engine {

const char* circuit_state_name(CircuitState state) {
  switch (state) {
    case CircuitState::kClosed: return "closed";
    case CircuitState::kOpen: return "open";
    case CircuitState::kHalfOpen: return "half-open";
  }
  return "?";
}

CircuitBreaker::CircuitBreaker(const topics::CircuitPolicy& policy)
    : policy_(policy),
      // At least 1 ms, so that a zero window still has buckets to count in.
      bucket_width_(std::max<Clock::duration>(policy.window / kBuckets,
                                              std::chrono::milliseconds(1))) {}

void CircuitBreaker::record_success(Clock::time_point now) {
  if (!policy_.enabled) return;
  advance(now);
  switch (state_) {
    case CircuitState::kClosed: count(now, false); return;
    case CircuitState::kOpen: return;  // started before it opened: no evidence either way
    case CircuitState::kHalfOpen: close(); return;
  }
}

bool CircuitBreaker::record_failure(Clock::time_point now) {
  if (!policy_.enabled) return true;
  advance(now);
  switch (state_) {
    case CircuitState::kClosed: {
      count(now, true);
      WindowCounts counts = window_counts(now);
      if (should_open(counts)) open(now, counts);
      return true;
    }
    case CircuitState::kOpen: return false;
    case CircuitState::kHalfOpen:
      if (probes_running_ > 0) --probes_running_;
      // Re-open once no probe is left running and none succeeded (a success
      // would have closed). A round with no probe started yet stays open to
      // probes: this failure is a task started before the circuit opened.
      if (probes_running_ == 0 && probes_started_ > 0) {
        open(now, {probes_started_, probes_started_});
      }
      return false;
  }
  return true;
}

void CircuitBreaker::abandoned(Clock::time_point now) {
  if (!policy_.enabled) return;
  advance(now);
  if (state_ != CircuitState::kHalfOpen || probes_running_ == 0) return;
  --probes_running_;
  --probes_started_;
}

bool CircuitBreaker::may_start(Clock::time_point now) const {
  switch (state(now)) {
    case CircuitState::kClosed: return true;
    case CircuitState::kOpen: return false;
    // Still stored as kOpen: the cool-down passed but advance() has not run
    // yet, so this round has started no probe.
    case CircuitState::kHalfOpen:
      return state_ == CircuitState::kOpen || probes_started_ < kProbes;
  }
  return false;
}

void CircuitBreaker::started(Clock::time_point now) {
  SLUICE_CHECK(may_start(now), "a task started while the circuit forbids it");
  advance(now);
  if (state_ != CircuitState::kHalfOpen) return;
  ++probes_started_;
  ++probes_running_;
}

CircuitState CircuitBreaker::state(Clock::time_point now) const {
  if (state_ == CircuitState::kOpen && now >= open_until_) return CircuitState::kHalfOpen;
  return state_;
}

std::vector<CircuitChange> CircuitBreaker::take_changes(Clock::time_point now) {
  advance(now);
  std::vector<CircuitChange> taken;
  taken.swap(changes_);
  return taken;
}

std::string CircuitBreaker::describe(const CircuitChange& change) const {
  const std::string paused = "; no task starts for " + topics::format_duration(policy_.cool_down);
  switch (change.to) {
    case CircuitState::kOpen:
      if (change.from == CircuitState::kHalfOpen) {
        return "circuit re-opened: " + std::to_string(change.failures) + " of " +
               std::to_string(change.attempts) + " probe tasks failed" + paused;
      }
      return "circuit opened: " + std::to_string(change.failures) + " of " +
             std::to_string(change.attempts) + " attempts failed in " +
             topics::format_duration(policy_.window) + paused;
    case CircuitState::kHalfOpen:
      return "circuit half-open: cool-down over, up to " + std::to_string(kProbes) +
             " probe tasks may start";
    case CircuitState::kClosed: return "circuit closed: a probe task succeeded";
  }
  return "circuit ?";
}

void CircuitBreaker::advance(Clock::time_point now) {
  if (state_ != CircuitState::kOpen || now < open_until_) return;
  probes_started_ = 0;
  probes_running_ = 0;
  change(CircuitState::kHalfOpen, {});
}

void CircuitBreaker::count(Clock::time_point now, bool failed) {
  const int64_t slot = slot_of(now);
  Bucket& bucket = buckets_[static_cast<size_t>(slot % kBuckets)];
  if (bucket.slot != slot) bucket = Bucket{slot, 0, 0};
  bucket.attempts += 1;
  bucket.failures += failed ? 1 : 0;
}

CircuitBreaker::WindowCounts CircuitBreaker::window_counts(Clock::time_point now) const {
  const int64_t current = slot_of(now);
  WindowCounts counts;
  for (const Bucket& bucket : buckets_) {
    if (bucket.slot > current - kBuckets && bucket.slot <= current) {
      counts.failures += bucket.failures;
      counts.attempts += bucket.attempts;
    }
  }
  return counts;
}

bool CircuitBreaker::should_open(const WindowCounts& counts) const {
  // Integer percent: failures/attempts >= rate/100 without rounding.
  return counts.failures >= std::max(policy_.failures, 1) &&
         int64_t{counts.failures} * 100 >= int64_t{policy_.failure_rate} * counts.attempts;
}

void CircuitBreaker::open(Clock::time_point now, const WindowCounts& why) {
  open_until_ = now + policy_.cool_down;
  change(CircuitState::kOpen, why);
}

void CircuitBreaker::close() {
  buckets_.fill(Bucket{});
  change(CircuitState::kClosed, {});
}

void CircuitBreaker::change(CircuitState to, const WindowCounts& why) {
  changes_.push_back({state_, to, why.failures, why.attempts});
  state_ = to;
}

int64_t CircuitBreaker::slot_of(Clock::time_point now) const {
  // steady_clock counts from boot: never negative, so slot % kBuckets is an index.
  return now.time_since_epoch() / bucket_width_;
}

}  // namespace sluice::engine
