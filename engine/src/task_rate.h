// TaskRate: a worker's tasks ended a second, smoothed, as its reports carry
// it (worker_report.h): an exponential average, each sample weighing a fifth
// (about 10 s of memory at a sample a second), counted from the first sample
// that is not 0 and corrected for its start (divided by 1 - 0.8^n after n
// samples), so the first is taken whole. Smoothed from 0, a stage that just
// started read a fifth of its pace for its first second, and the autoscaler
// scaled a stage that kept up (CI: 398/s for a stage doing ~2,000/s, 2,000
// records waiting, "5 s to drain" against a target of 5 s).
#pragma once

namespace sluice::engine {

class TaskRate {
 public:
  void sample(double per_second) {
    if (unweighted_ == 1 && per_second <= 0) return;  // nothing ended yet
    average_ += kWeight * (per_second - average_);
    unweighted_ *= 1 - kWeight;
  }
  double per_second() const { return unweighted_ == 1 ? 0 : average_ / (1 - unweighted_); }

 private:
  static constexpr double kWeight = 0.2;
  double average_ = 0;     // from 0
  double unweighted_ = 1;  // (1 - kWeight)^samples: the share of that 0 in average_
};

}  // namespace sluice::engine
