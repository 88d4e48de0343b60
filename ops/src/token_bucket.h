// TokenBucket: paces `sluice dlq replay --rate N/s`. A bucket of `burst`
// tokens refilled at `per_second`; each send takes one, and waits for it
// when the bucket is empty. With burst 1, N sends take at least (N-1)/rate.
// The caller passes the time in (tests use their own), and sleeps itself.
// One thread.
#pragma once

#include <chrono>
#include <string>

#include "sluice/status.h"

namespace sluice::ops {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double per_second, double burst, Clock::time_point now);
  // Takes a token: how long to wait from `now` before using it (zero when
  // one was there).
  Clock::duration take(Clock::time_point now);

 private:
  double per_second_;
  double burst_;
  double tokens_;  // below zero: tokens promised to callers that are waiting
  Clock::time_point refilled_;
};

// "5/s", "0.5/s" -> per second; kUsage "--rate: ..." for anything else.
Result<double> parse_rate(const std::string& text);

}  // namespace sluice::ops
