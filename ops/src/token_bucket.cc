#include "token_bucket.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace sluice::ops {

TokenBucket::TokenBucket(double per_second, double burst, Clock::time_point now)
    : per_second_(per_second), burst_(burst), tokens_(burst), refilled_(now) {}

TokenBucket::Clock::duration TokenBucket::take(Clock::time_point now) {
  if (now > refilled_) {
    std::chrono::duration<double> elapsed = now - refilled_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * per_second_);
    refilled_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::duration::zero();
  // Round up: waking a nanosecond early would let the rate be exceeded.
  std::chrono::duration<double> wait(-tokens_ / per_second_);
  return std::chrono::ceil<Clock::duration>(wait);
}

Result<double> parse_rate(const std::string& text) {
  size_t slash = text.find('/');
  if (slash != std::string::npos && text.substr(slash) == "/s" && slash > 0) {
    std::string number = text.substr(0, slash);
    char* end = nullptr;
    double rate = std::strtod(number.c_str(), &end);
    bool plain = number.find_first_not_of("0123456789.") == std::string::npos;
    if (plain && end == number.c_str() + number.size() && std::isfinite(rate) && rate > 0) {
      return rate;
    }
  }
  return usage_error("--rate: '" + text + "' is not a rate above zero per second (e.g. 10/s)");
}

}  // namespace sluice::ops
