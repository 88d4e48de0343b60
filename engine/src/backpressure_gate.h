// BackpressureGate: whether a stage holds back because a stage after it is
// full. A stage in `next` becomes full when its queue depth (input and
// retry) rises above its high_watermark, and stays full until it falls
// below its low_watermark: the hysteresis keeps a stage near its mark from
// pausing and resuming its upstream on every reading. The gate is shut
// while any of them is full; the cause named is the first full one in
// `next` order. While it is open, room() bounds what the stage may send
// until the next reading, so that a fast stage does not overshoot a slow
// one's high watermark by a reading interval's worth of records. Pure
// logic: the readings come from the LagMonitor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::engine {

struct DownstreamStage {
  std::string stage;
  int64_t high_watermark = 0;
  int64_t low_watermark = 0;
};

class BackpressureGate {
 public:
  explicit BackpressureGate(std::vector<DownstreamStage> downstream);

  // One reading: the depth of each downstream stage, in the order given.
  void update(const std::vector<int64_t>& depths);
  // Opens the gate whatever the last readings said (they are too old).
  void forget();

  bool shut() const { return cause_ >= 0; }
  // While open: records the stage may still send before the next reading
  // without taking a next stage over its high watermark (the least room
  // any has), and that stage. 0 while shut.
  int64_t room() const;
  const std::string& tightest() const;
  // The full stage, or empty while open.
  const std::string& cause() const;
  // "stage NAME holds D records (it fills above H and drains below L)",
  // or empty while open.
  std::string why() const;

 private:
  std::vector<DownstreamStage> downstream_;
  std::vector<bool> full_;
  std::vector<int64_t> depths_;
  int cause_ = -1;
  int tightest_ = -1;
};

}  // namespace sluice::engine
