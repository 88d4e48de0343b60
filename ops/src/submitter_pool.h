// SubmitterPool: JobSubmitters for the threads of `sluice serve`. A
// JobSubmitter is single-threaded and its flush() waits for everything it
// queued, so each request takes one of its own, and its flush waits for its
// jobs only. At most `max` exist (made as needed, kept for the next
// request); one whose flush failed is dropped, not reused: its counts are
// spoiled, and a fresh one reconnects.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "sluice/kafka_options.h"
#include "sluice/submitter.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {

class SubmitterPool {
 public:
  SubmitterPool(const topics::PipelineSpec& spec, KafkaOptions kafka, size_t max)
      : spec_(spec), kafka_(std::move(kafka)), max_(max) {}

  // Blocks while `max` are in use. Fails as JobSubmitter::create does.
  Result<std::unique_ptr<JobSubmitter>> acquire();
  // `healthy`: its last flush succeeded.
  void release(std::unique_ptr<JobSubmitter> submitter, bool healthy);

 private:
  topics::PipelineSpec spec_;
  KafkaOptions kafka_;
  size_t max_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<JobSubmitter>> idle_;
  size_t in_use_ = 0;
};

}  // namespace sluice::ops
