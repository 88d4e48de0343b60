#include "stage_worker.h"

#include "sluice/worker.h"

namespace sluice::bench {

Status run_stage_worker(const topics::PipelineSpec& spec, std::unique_ptr<Stage> stage,
                        const StageWorkerOptions& options, const std::atomic<bool>& stop) {
  WorkerOptions worker_options;
  worker_options.spec = spec;
  worker_options.stage = spec.entry_stage().name;
  worker_options.kafka = KafkaOptions::from_spec(spec.kafka);
  worker_options.max_buffered_tasks = options.max_buffered_tasks;
  worker_options.observer = options.observer;
  worker_options.state_dir = options.state_dir;
  auto worker = Worker::create(std::move(worker_options), std::move(stage));
  if (!worker.is_ok()) return worker.status();
  return (*worker)->run(stop);
}

}  // namespace sluice::bench
