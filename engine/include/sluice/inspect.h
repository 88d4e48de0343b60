// Inspection of a running pipeline from broker state (`sluice status`, the
// exporter, `sluice demo`'s progress): workers per stage group and queue
// depth per topic, computed from broker offsets (high watermark minus the
// group's committed offset, per partition), never from client statistics.
// Blocking calls bounded by kafka.connect_timeout; one thread at a time.
// Its reads are batched (engine/src/lag_monitor.h): their cost does not
// grow with partitions.
// create() fails if the broker is unreachable; status() fails if it stops
// answering, but reports topics that do not exist (yet) with depth 0. The
// Inspector keeps one non-member consumer handle per stage group (to read
// committed offsets without joining), so keep one Inspector and call
// status() repeatedly rather than creating one per call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/kafka_options.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice {

struct TopicDepth {
  std::string topic;
  std::string role;  // "input", "retry", "dlq", "done"
  int64_t depth = 0;  // records not yet committed by the stage's group;
                      // for dlq and done: records in the topic
  // input and retry, when the Inspector reads ages: how long the oldest
  // waiting record has waited (now less its Kafka timestamp, over the
  // partitions); 0 when nothing waits.
  double oldest_waiting_seconds = 0;
};

struct StageStatus {
  std::string stage;
  std::string group;
  // Members of the stage's consumer group; 0 when the group is unknown,
  // empty, or the broker cannot describe groups (the embedded broker).
  int workers = 0;
  std::vector<TopicDepth> topics;
  // A worker of the stage says its circuit breaker is open (or probing),
  // in the metadata of its latest commits.
  bool circuit_open = false;
  // A stage with `state: true`: changelog partitions its workers are
  // restoring now, and the records they have left (as the workers report
  // them, every second: engine/src/restore_progress.h).
  int restoring_partitions = 0;
  int64_t restore_records_left = 0;
  // Backpressure: a worker of the stage holds its input back because this
  // stage in its `next` is full (as the workers report it, every second:
  // engine/src/worker_report.h); empty when none does.
  std::string paused_by;
  // Input partitions whose records wait while the worker that owns them
  // neither holds back nor makes progress: it stopped reporting (stopped,
  // dead, or none owns them though the stage has workers), or it finished
  // no task for the stage's timeout plus 10 s while holding some.
  int stuck_partitions = 0;
  // Tasks the stage's workers end a second (smoothed over ~10 s), from
  // their reports; 0 with no worker reporting.
  double throughput = 0;
  bool stuck() const { return stuck_partitions > 0; }
  // The depth of the topic of `role` ("input", "retry", "dlq"); 0 if absent.
  int64_t depth(const std::string& role) const;
  // What waits for the stage's workers: its input and retry records.
  int64_t waiting() const { return depth("input") + depth("retry"); }
  // "paused", "stuck", "idle" (nothing waits), "no workers" or "running".
  std::string state() const;
};

struct PipelineStatus {
  std::string pipeline;
  std::vector<StageStatus> stages;
  int64_t done = 0;  // records in <pipeline>.done
  // Records ever written to <pipeline>.intake and <pipeline>.done (high
  // watermarks summed: retention does not lower them; under exactly_once
  // transaction markers count too).
  int64_t intake_written = 0;
  int64_t done_written = 0;
};

struct InspectOptions {
  // Also read each waiting queue's oldest record (TopicDepth's
  // oldest_waiting_seconds): one small fetch per partition with records
  // waiting, per status(), at most 2 s for all of them.
  bool oldest_waiting = false;
};

class Inspector {
 public:
  static Result<std::unique_ptr<Inspector>> create(const topics::PipelineSpec& spec,
                                                   const KafkaOptions& kafka,
                                                   InspectOptions options = {});
  virtual ~Inspector() = default;
  virtual Result<PipelineStatus> status() = 0;
};

}  // namespace sluice
