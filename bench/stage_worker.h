// run_stage_worker(): a sluice::Worker running `stage` as the one stage of
// `spec`, exactly as `sluice run` would (decode, dispatch by key, encode the
// outputs, commit only acknowledged work), until `stop` is set. The stage is
// passed in, so a benchmark may run its own stage object in the place of the
// spec's kind.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "sluice/observer.h"
#include "sluice/stage.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice::bench {

struct StageWorkerOptions {
  size_t max_buffered_tasks = 10000;   // the spec's default, set over the stage's
  WorkerObserver* observer = nullptr;  // not owned; may be null
  std::string state_dir;               // a stateful stage's store
};

Status run_stage_worker(const topics::PipelineSpec& spec, std::unique_ptr<Stage> stage,
                        const StageWorkerOptions& options, const std::atomic<bool>& stop);

}  // namespace sluice::bench
