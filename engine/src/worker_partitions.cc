// Partitions: rebalances, rewinds after failed delivery, and flow control.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <thread>

#include "done_offsets.h"
#include "kafka_errors.h"
#include "worker_impl.h"

namespace sluice::engine {

void WorkerImpl::on_rebalance(rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(partitions);
  } else {
    revoke(partitions);
  }
}

void WorkerImpl::assign(rd_kafka_topic_partition_list_t* partitions) {
  for (int i = 0; i < partitions->cnt; ++i) {
    tracker_.assign(partitions->elems[i].partition);
    assignment_.push_back(partitions->elems[i].partition);
  }
  load_handed_over_offsets(partitions);
  Status s = kafka_status(rd_kafka_assign(consumer_.get(), partitions), "assign");
  if (!s.is_ok()) spdlog::error("stage {}: {}", spec_->name, s.message());
  if (paused_) rd_kafka_pause_partitions(consumer_.get(), partitions);
  spdlog::info("stage {}: assigned {} partitions of {}", spec_->name, partitions->cnt,
               input_topic_);
  observer_->assignment_changed(assignment_.size());
}

// Offsets the previous owner finished above its commit are skipped, not
// rerun. Without them (an old commit, a crash) they are simply run again.
void WorkerImpl::load_handed_over_offsets(const rd_kafka_topic_partition_list_t* partitions) {
  PartitionList committed(rd_kafka_topic_partition_list_copy(partitions));
  auto timeout = static_cast<int>(options_.kafka.connect_timeout.count());
  Status s = kafka_status(rd_kafka_committed(consumer_.get(), committed.get(), timeout),
                          "read committed offsets of " + input_topic_);
  if (!s.is_ok()) {
    spdlog::warn("stage {}: {}; offsets finished above them will run again", spec_->name,
                 s.message());
    return;
  }
  skip_handed_over(committed.get());
}

// Reads the done offsets out of a committed-offsets answer (done_offsets.h).
void WorkerImpl::skip_handed_over(const rd_kafka_topic_partition_list_t* committed) {
  size_t skipped = 0;
  for (int i = 0; i < committed->cnt; ++i) {
    const rd_kafka_topic_partition_t& element = committed->elems[i];
    if (element.offset < 0 || element.metadata == nullptr) continue;
    std::vector<int64_t> done = decode_done_offsets(
        element.offset,
        std::string_view(static_cast<const char*>(element.metadata), element.metadata_size));
    skipped += done.size();
    tracker_.skip_done(element.partition, std::move(done));
  }
  if (skipped > 0) {
    spdlog::info("stage {}: {} records finished by the previous owner will be skipped",
                 spec_->name, skipped);
  }
}

// Eager revocation: finish the tasks running for these partitions (within
// the shutdown deadline), commit with the offsets done above the position,
// and drop the rest uncommitted. The next owner starts at the commit and
// skips what was handed over as done: nothing skipped that was not done,
// nothing done twice (unless the deadline cut a task short).
void WorkerImpl::revoke(rd_kafka_topic_partition_list_t* partitions) {
  std::set<int32_t> revoked;
  for (int i = 0; i < partitions->cnt; ++i) revoked.insert(partitions->elems[i].partition);
  auto of_revoked = [&](const TaskRecord& r) { return revoked.count(r.partition) != 0; };
  // While stopping, the shutdown's own deadline still holds; consumer close
  // calls this too.
  drain_until(stopping_ ? stop_deadline() : Clock::now() + options_.shutdown_deadline,
              of_revoked);
  commit_phase(true);
  size_t abandoned = 0;
  records_.for_each([&](const TaskRecord& r) { abandoned += of_revoked(r) ? 1 : 0; });
  if (abandoned > 0) {
    spdlog::warn("stage {}: {} tasks unfinished at revocation; the next owner reruns them",
                 spec_->name, abandoned);
  }
  drop_records(of_revoked);
  for (int32_t partition : revoked) tracker_.revoke(partition);
  std::erase_if(assignment_, [&](int32_t p) { return revoked.count(p) != 0; });
  Status s = kafka_status(rd_kafka_assign(consumer_.get(), nullptr), "unassign");
  if (!s.is_ok()) spdlog::error("stage {}: {}", spec_->name, s.message());
  spdlog::info("stage {}: revoked {} partitions", spec_->name, revoked.size());
  observer_->assignment_changed(assignment_.size());
}

// Forgets the selected records, uncommitted, releasing what they hold in the
// dispatcher. A stage may still finish one later: its outcome is ignored.
void WorkerImpl::drop_records(const std::function<bool(const TaskRecord&)>& which) {
  std::set<uint64_t> dropped_waiting;
  records_.for_each([&](TaskRecord& record) {
    if (!which(record)) return;
    switch (record.state) {
      case TaskState::kWaiting: dropped_waiting.insert(record.id); break;
      case TaskState::kRunning: dispatcher_.finish(record.lane); break;
      case TaskState::kParked: dispatcher_.finish_parked(record.lane); break;
      case TaskState::kProducing: break;  // its key was released already
    }
    erase_record(record);
  });
  if (!dropped_waiting.empty()) {
    dispatcher_.remove_waiting_if(
        [&](uint64_t id) { return dropped_waiting.count(id) != 0; });
  }
}

// After a failed delivery: commit what was acknowledged, drop the rest,
// rebuild the producer if it hit a fatal error, and re-read every partition
// from that commit, skipping the offsets it names as done.
Status WorkerImpl::recover_phase() {
  if (!rewind_needed_) {
    rewind_backoff_ = std::chrono::milliseconds(0);
    return Status::ok();
  }
  rewind_needed_ = false;
  // What was acknowledged is committed first (with the done offsets above
  // each position), so the rewind redoes only what was not.
  commit_phase(true);
  drop_records([](const TaskRecord&) { return true; });
  if (producer_fatal_) {
    producer_fatal_ = false;
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    if (Status s = make_producer(); !s.is_ok()) return s;
  }
  // Back off between rewinds so a broker that keeps refusing is not hammered.
  rewind_backoff_ = std::clamp(rewind_backoff_ * 2, std::chrono::milliseconds(100),
                               std::chrono::milliseconds(30000));
  auto resume_at = Clock::now() + rewind_backoff_;
  while (Clock::now() < resume_at) {
    if (give_up_waiting()) return Status::ok();  // past the shutdown deadline: no rewind
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  rewind_to_committed();
  return Status::ok();
}

void WorkerImpl::rewind_to_committed() {
  PartitionList positions(rd_kafka_topic_partition_list_new(static_cast<int>(assignment_.size())));
  for (int32_t partition : assignment_) {
    rd_kafka_topic_partition_list_add(positions.get(), input_topic_.c_str(), partition);
    tracker_.assign(partition);
  }
  auto timeout = static_cast<int>(options_.kafka.connect_timeout.count());
  Status s = kafka_status(rd_kafka_committed(consumer_.get(), positions.get(), timeout),
                          "read committed offsets of " + input_topic_);
  if (!s.is_ok()) {
    spdlog::error("stage {}: {}; will try the rewind again", spec_->name, s.message());
    rewind_needed_ = true;
    return;
  }
  skip_handed_over(positions.get());  // acknowledged work is not redone
  for (int i = 0; i < positions->cnt; ++i) {
    // No commit yet: the group starts from the beginning (auto.offset.reset).
    if (positions->elems[i].offset < 0) positions->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  KafkaError error(rd_kafka_seek_partitions(consumer_.get(), positions.get(), timeout));
  Status seek = kafka_status(error.get(), "rewind " + input_topic_);
  spdlog::warn("stage {}: rewound {} partitions to their last commit{}", spec_->name,
               positions->cnt, seek.is_ok() ? "" : " (" + seek.message() + ")");
}

// Counts tasks not yet produced, and the input bytes they hold: records
// only awaiting acks have given back their body, and librdkafka's queue
// bounds them (produce() waits on it). Pausing is costly (librdkafka drops
// what it prefetched), hence the hysteresis.
void WorkerImpl::flow_control_phase() {
  size_t buffered = dispatcher_.waiting() + dispatcher_.in_flight() + retries_.size();
  bool full = buffered >= options_.max_buffered_tasks ||
              body_bytes_ >= options_.max_buffered_bytes;
  bool half_empty = buffered <= options_.max_buffered_tasks / 2 &&
                    body_bytes_ <= options_.max_buffered_bytes / 2;
  if (!paused_ && full) {
    set_paused(true);
  } else if (paused_ && !stopping_ && half_empty) {
    set_paused(false);
  }
}

void WorkerImpl::set_paused(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  observer_->paused_changed(paused);
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  PartitionList assigned(raw);
  if (paused) {
    rd_kafka_pause_partitions(consumer_.get(), assigned.get());
  } else {
    rd_kafka_resume_partitions(consumer_.get(), assigned.get());
  }
}

}  // namespace sluice::engine
