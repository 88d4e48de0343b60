// Admission at intake (`sluice submit`, `sluice serve`): whether the entry
// stage has room for more jobs. It is full while its queue depth (input and
// retry, from broker offsets: engine/src/lag_monitor.h) is above its
// backpressure.high_watermark; backpressure between the stages makes the
// entry stage fill up when any stage after it is full, so refusing here is
// what keeps a flood of jobs from piling up anywhere in the pipeline.
// Blocking reads bounded by kafka.connect_timeout; one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/kafka_options.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice {

struct IntakeRoom {
  std::string stage;  // the entry stage
  int64_t depth = 0;
  int64_t high_watermark = 0;
  bool busy() const { return depth > high_watermark; }
  // "stage NAME holds D jobs, over its high watermark H".
  std::string why() const;
};

class AdmissionCheck {
 public:
  // Fails when the broker is unreachable.
  static Result<std::unique_ptr<AdmissionCheck>> create(const topics::PipelineSpec& spec,
                                                        const KafkaOptions& kafka);
  virtual ~AdmissionCheck() = default;
  virtual Result<IntakeRoom> read() = 0;
};

}  // namespace sluice
