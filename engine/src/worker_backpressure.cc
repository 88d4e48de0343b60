// Backpressure and the worker's report, through the LagWatcher
// (lag_watcher.h): while a stage in `next` is full, or the records taken in
// since the last reading used up the room it left, every consumed partition
// (input and retry) carries kPauseBackpressure, so the records wait on the
// broker, where this stage's queue depth shows them, and the pause reaches
// intake stage by stage. Tasks already taken in run on, and consume_phase
// takes in no more than the room left, less what this worker holds: a next
// stage goes over its high watermark by what the other workers of this
// stage send between two readings, at most.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "worker_impl.h"

namespace sluice::engine {

Status WorkerImpl::start_lag_watcher() {
  auto watcher = LagWatcher::start(options_.kafka, options_.spec, *spec_);
  if (!watcher.is_ok()) return watcher.status();
  lag_watcher_ = std::move(watcher).value();
  // Until the first reading, as if the next stages were empty: a worker
  // started on a full input took it all in before it learned their depth
  // (CI: 2,329 records into a stage whose mark is 200, and the stage before
  // drained its own queue with them).
  for (const std::string& name : spec_->next) {
    if (const topics::StageSpec* next = options_.spec.find_stage(name)) {
      room_ = std::min<int64_t>(room_, next->backpressure.high_watermark);
    }
  }
  return Status::ok();
}

void WorkerImpl::assignment_changed() {
  observer_->assignment_changed(input_partitions());
  if (!lag_watcher_) return;
  std::vector<int32_t> owned;
  for (const auto& [where, partition] : partitions_) {
    if (where.topic == kInputTopic) owned.push_back(where.partition);
  }
  lag_watcher_->set_partitions(std::move(owned));
}

void WorkerImpl::follow_backpressure(size_t buffered) {
  if (!lag_watcher_) return;
  // Progress, for the report: a task ended since last time, or none is held.
  if (buffered == 0 || tasks_ended_ != tasks_ended_reported_) {
    tasks_ended_reported_ = tasks_ended_;
    lag_watcher_->set_progress(now_unix_ms());
    lag_watcher_->set_tasks_ended(tasks_ended_);
  }
  if (uint64_t version = lag_watcher_->gate_version(); version != gate_version_seen_) {
    gate_version_seen_ = version;
    LagWatcher::Gate gate = lag_watcher_->gate();
    if (gate.shut && !gate_shut_) {
      spdlog::info("stage {}: backpressure: pausing its input: {}", spec_->name, gate.why);
    } else if (!gate.shut && gate_shut_) {
      spdlog::info("stage {}: backpressure: resuming its input", spec_->name);
    }
    gate_shut_ = gate.shut;
    // The records this worker holds have outputs the reading did not see
    // yet (not produced, or not acknowledged): they take room too.
    int64_t held = static_cast<int64_t>(records_.size());
    room_ = gate.room == INT64_MAX ? gate.room : std::max<int64_t>(0, gate.room - held);
    taken_since_reading_ = 0;
    ran_out_before_reading_ = ran_out_since_reading_;
    ran_out_since_reading_ = false;
  }
  out_of_room_ = !gate_shut_ && taken_since_reading_ >= room_;
  ran_out_since_reading_ = ran_out_since_reading_ || out_of_room_;
  backpressure_shut_ = gate_shut_ || out_of_room_;
  // A worker that used up its room between the last two readings is held
  // back until the next, though its partitions run while it takes in the
  // new room: it takes in what the next stage drains, no more. Reported as
  // paused throughout, in status and in sluice_backpressure_paused (sampled
  // between readings, the pause alone read 0 more often than not).
  bool held_back = out_of_room_ || ran_out_before_reading_;
  if (held_back != held_back_) {
    held_back_ = held_back;
    lag_watcher_->set_held_back(held_back);
  }
}

}  // namespace sluice::engine
