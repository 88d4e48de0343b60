// JobSubmitter: puts jobs on a pipeline's intake topic (`sluice submit`).
//
// Each job becomes one envelope on <pipeline>.intake (job id = task id =
// correlation id, attempt 1, submitted-at now, the job's deadline), keyed
// by the given key or else the job id; Kafka headers sluice-job-id and
// sluice-task-id carry the id too. submit() queues and returns the job id at once (it blocks only
// while librdkafka's local queue is full); flush() waits until the broker
// acknowledged every queued job, and fails if any was not. Each job is
// given up after message.timeout.ms (30 s unless kafka.properties says
// otherwise), so a broker lost mid-way fails flush() in bounded time.
// Not thread-safe: one thread submits and flushes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sluice/kafka_options.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice {

struct Job {
  std::string payload;
  std::string content_type = "application/json";
  std::optional<std::string> key;  // default: the job id
  int64_t deadline_unix_ms = 0;    // 0: none
};

class JobSubmitter {
 public:
  // Connects and checks that the intake topic exists (bounded by
  // kafka.connect_timeout): an unreachable broker fails here, clearly
  // (kTransient "cannot reach Kafka at HOST:PORT within Ns: ..."); a
  // missing intake is kNotFound "topic P.intake does not exist on HOST:PORT;
  // create it with `sluice topics apply -f FILE`".
  static Result<std::unique_ptr<JobSubmitter>> create(
      const topics::PipelineSpec& spec, const KafkaOptions& kafka);
  virtual ~JobSubmitter() = default;

  virtual Result<std::string> submit(const Job& job) = 0;
  // Waits up to `timeout` for every acknowledgement. Fails naming how many
  // jobs were not acknowledged and why: "N of M jobs were not acknowledged
  // by HOST:PORT: <first delivery error>".
  virtual Status flush(std::chrono::milliseconds timeout) = 0;
  virtual size_t acknowledged() const = 0;
  // Whether job `id`, returned by submit(), has no acknowledgement (yet):
  // still in flight, or its delivery failed. Such a job may or may not be on
  // the broker (a produce request can land and its answer get lost).
  virtual bool unacknowledged(const std::string& id) const = 0;
};

}  // namespace sluice
