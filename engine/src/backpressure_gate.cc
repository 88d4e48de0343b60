#include "backpressure_gate.h"

#include <algorithm>
#include <cstdint>

namespace sluice::engine {

BackpressureGate::BackpressureGate(std::vector<DownstreamStage> downstream)
    : downstream_(std::move(downstream)),
      full_(downstream_.size(), false),
      depths_(downstream_.size(), 0) {}

void BackpressureGate::update(const std::vector<int64_t>& depths) {
  cause_ = -1;
  tightest_ = -1;
  for (size_t i = 0; i < downstream_.size() && i < depths.size(); ++i) {
    depths_[i] = depths[i];
    if (depths[i] > downstream_[i].high_watermark) {
      full_[i] = true;
    } else if (depths[i] < downstream_[i].low_watermark) {
      full_[i] = false;
    }
    if (full_[i] && cause_ < 0) cause_ = static_cast<int>(i);
    if (tightest_ < 0 || downstream_[i].high_watermark - depths_[i] <
                             downstream_[tightest_].high_watermark - depths_[tightest_]) {
      tightest_ = static_cast<int>(i);
    }
  }
}

int64_t BackpressureGate::room() const {
  if (shut()) return 0;
  if (tightest_ < 0) return INT64_MAX;
  return std::max<int64_t>(0, downstream_[tightest_].high_watermark - depths_[tightest_]);
}

const std::string& BackpressureGate::tightest() const {
  static const std::string kNone;
  return tightest_ < 0 ? kNone : downstream_[tightest_].stage;
}

void BackpressureGate::forget() {
  full_.assign(full_.size(), false);
  cause_ = -1;
  tightest_ = -1;
}

const std::string& BackpressureGate::cause() const {
  static const std::string kNone;
  return shut() ? downstream_[cause_].stage : kNone;
}

std::string BackpressureGate::why() const {
  if (!shut()) return {};
  const DownstreamStage& full = downstream_[cause_];
  return "stage " + full.stage + " holds " + std::to_string(depths_[cause_]) +
         " records (it fills above " + std::to_string(full.high_watermark) +
         " and drains below " + std::to_string(full.low_watermark) + ")";
}

}  // namespace sluice::engine
