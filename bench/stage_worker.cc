#include "stage_worker.h"

#include "sluice/worker.h"

namespace sluice::bench {

Status run_stage_worker(const topics::PipelineSpec& spec, std::unique_ptr<Stage> stage,
                        const StageWorkerOptions& options, const std::atomic<bool>& stop) {
  WorkerOptions worker_options;
  worker_options.spec = spec;
  worker_options.stage = spec.entry_stage().name;
  for (topics::StageSpec& s : worker_options.spec.stages) {
    if (s.name == worker_options.stage) {
      s.max_buffered_tasks = static_cast<int>(options.max_buffered_tasks);
    }
  }
  worker_options.kafka = KafkaOptions::from_spec(spec.kafka);
  worker_options.observer = options.observer;
  worker_options.state_dir = options.state_dir;
  auto worker = Worker::create(std::move(worker_options), std::move(stage));
  if (!worker.is_ok()) return worker.status();
  return (*worker)->run(stop);
}

}  // namespace sluice::bench
