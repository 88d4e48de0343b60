// Worker: one member of a stage's consumer group, running that stage.
//
// Lifecycle: create() checks the spec and connects; run() consumes, runs
// tasks through the stage and produces their outcomes until `stop` becomes
// true or a fatal error occurs; then it shuts down in a documented order:
// stop fetching, finish in-flight work within the shutdown deadline, wait for
// delivery, commit, leave the group, close the producer, close the stage.
// At-least-once: an input offset is committed only once every record it
// caused is acknowledged by the broker. Exactly-once (the stage's
// `guarantee`): the records a batch of tasks caused and their input offsets
// commit in one Kafka transaction, every transaction_interval or sooner at
// max_transaction_records. run() is called from one thread;
// `stop` may be set from any thread (e.g. by a signal handler's flag).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "sluice/kafka_options.h"
#include "sluice/observer.h"
#include "sluice/stage.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice {

struct WorkerOptions {
  topics::PipelineSpec spec;
  std::string stage;       // name of the stage to run
  KafkaOptions kafka;      // resolved bootstrap + librdkafka properties
  std::chrono::milliseconds shutdown_deadline{30000};
  std::chrono::milliseconds commit_interval{1000};
  // exactly_once: names this worker among its stage's workers; its
  // transactional.id is sluice.<p>.<stage>.<instance> (topics/names.h). Keep
  // it stable across restarts of one worker, unique among live ones.
  std::string instance{};
  // A stage with `state: true`: the directory of this worker's state store
  // (one worker per directory; `sluice run` uses
  // <--state-dir>/<pipeline>/<stage>/<instance>). Required for such a stage.
  std::string state_dir{};
  std::chrono::milliseconds transaction_interval{100};
  size_t max_transaction_records = 10000;
  // exactly_once: per partition, ranges of offsets done above its committed
  // position (tasks that finished out of order). Each costs room in the
  // commit's done-offsets metadata (done_offsets.h), which must hold them
  // all: an offset done but left out would run again after a crash, and its
  // outputs appear twice. At the bound the partition pauses.
  size_t max_done_ranges_per_partition = 150;
  // Per partition, offsets tracked above its committable position (done or
  // not): behind one slow task the window grows; at this bound that partition
  // pauses until the task ends.
  size_t max_window_per_partition = 100000;
  // Outputs and dead letters are checked against this before producing (also
  // capped by kafka.properties' message.max.bytes): a task whose output is
  // larger is dead-lettered as too_large, and a dead letter is cut to fit.
  size_t max_record_bytes = 1000000;
  WorkerObserver* observer = nullptr;  // not owned; may be null
  // For tests: the sample in [0, 1] that scales each retry's backoff (full
  // jitter: the wait is backoff*2^(n-1), capped, times it). Null: random.
  std::function<double()> retry_jitter{};
  // Set (by a second SIGTERM or SIGINT) to end the shutdown's waits at once;
  // what was not committed is logged and runs again. May be null.
  const std::atomic<bool>* abandon = nullptr;
};

class Worker {
 public:
  static Result<std::unique_ptr<Worker>> create(WorkerOptions options,
                                                std::unique_ptr<Stage> stage);
  virtual ~Worker() = default;
  // Runs until `stop` is set (returns ok after a clean shutdown) or a fatal
  // error (returns it, after shutting down as cleanly as it can).
  virtual Status run(const std::atomic<bool>& stop) = 0;
};

}  // namespace sluice
