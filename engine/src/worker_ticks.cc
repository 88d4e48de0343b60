// Ticks: wake-ups a stateful stage asks for (Outcome::wake_after, a gather's
// timeouts). A tick is a record on the stage's own input partition (an
// envelope with `tick` set) sent by the worker that owns the partition; it
// comes back through the partition like any task, in its turn, with the
// partition's state, commits and (exactly_once) transaction, so what a stage
// does on a tick is as durable as what it does on a task.
//
// Ticks themselves need not be durable: they go through a small producer of
// their own, outside any transaction (the sink's accounting of records and
// transactions knows nothing of them), and one lost or doubled is harmless.
// A stage keeps its deadlines in its state and asks again from each tick;
// and every partition gets a tick once its state is restored (on assignment,
// after a rewind that wiped it), so a deadline set before a crash or a move
// is found again.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "envelope.pb.h"
#include "kafka_errors.h"
#include "worker_impl.h"

namespace sluice::engine {
namespace {

using std::chrono::milliseconds;

// What a tick that could not be sent waits before the next try.
constexpr milliseconds kTickRetry{1000};
constexpr const char* kTickJobId = "sluice-tick";

}  // namespace

void WorkerImpl::arm_tick(PartitionContext& partition, milliseconds after) {
  if (!wakes_ || partition.where.topic != kInputTopic) return;
  Clock::time_point at = Clock::now() + std::max(after, milliseconds(0));
  if (!partition.tick_at || at < *partition.tick_at) partition.tick_at = at;
}

void WorkerImpl::tick_phase() {
  if (!wakes_) return;
  if (tick_producer_) rd_kafka_poll(tick_producer_.get(), 0);
  Clock::time_point now = Clock::now();
  for (auto& [where, partition] : partitions_) {
    if (!partition.tick_at || *partition.tick_at > now || partition.restoring ||
        partition.needs_restore || partition.phase != PartitionPhase::kActive) {
      continue;
    }
    partition.tick_at.reset();
    if (Status s = send_tick(partition); !s.is_ok()) {
      spdlog::warn("stage {}: {}; trying again in {} ms", spec_->name, s.message(),
                   kTickRetry.count());
      arm_tick(partition, kTickRetry);
    }
  }
}

Status WorkerImpl::send_tick(const PartitionContext& partition) {
  if (!tick_producer_) {
    auto producer = make_client(options_.kafka, producer_spec());
    if (!producer.is_ok()) return producer.status();
    tick_producer_ = std::move(producer).value();
  }
  v1::Envelope tick;
  tick.set_job_id(kTickJobId);
  tick.set_task_id("tick-" + std::to_string(partition.where.partition) + "-" +
                   std::to_string(now_unix_ms()));
  tick.set_pipeline(options_.spec.pipeline);
  tick.set_destination_stage(spec_->name);
  tick.set_attempt(1);
  tick.set_tick(true);
  std::string value = tick.SerializeAsString();
  const std::string& topic = consumed_topics_[kInputTopic];
  rd_kafka_resp_err_t err = rd_kafka_producev(
      tick_producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_PARTITION(partition.where.partition),
      RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_END);
  return kafka_status(err, "send a tick to " + topic + "[" +
                               std::to_string(partition.where.partition) + "]");
}

void WorkerImpl::close_ticks() {
  if (!tick_producer_) return;
  rd_kafka_flush(tick_producer_.get(), 1000);  // a lost tick is harmless: bounded, not checked
  tick_producer_.reset();
}

}  // namespace sluice::engine
