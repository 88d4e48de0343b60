// Partitions: their lifecycle (partition_context.h) through rebalances and
// rewinds, and pausing.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "done_offsets.h"
#include "kafka_errors.h"
#include "worker_impl.h"

namespace sluice::engine {
namespace {

// Bounds the committed read and the seek inside the loop: a broker that does
// not answer is asked again later, with backoff, while other partitions run.
constexpr int kStartReadTimeoutMs = 5000;
constexpr int kSeekTimeoutMs = 5000;
constexpr auto kMaxRetryBackoff = std::chrono::milliseconds(10000);

std::chrono::milliseconds next_backoff(std::chrono::milliseconds backoff) {
  return std::clamp(backoff * 2, std::chrono::milliseconds(100), kMaxRetryBackoff);
}

}  // namespace

void WorkerImpl::on_rebalance(rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(partitions);
  } else {
    revoke(partitions);
  }
}

PartitionContext* WorkerImpl::find_partition(const char* topic, int32_t partition) {
  for (size_t i = 0; i < consumed_topics_.size(); ++i) {
    if (consumed_topics_[i] != topic) continue;
    auto it = partitions_.find({static_cast<int32_t>(i), partition});
    return it == partitions_.end() ? nullptr : &it->second;
  }
  return nullptr;
}

// Each new partition starts where its committed offset says, read here, and
// is assigned at exactly that offset. If the read fails the partition stays
// paused in kStarting and the read is retried from the loop: its start is
// never guessed.
void WorkerImpl::assign(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<PartitionContext*> added;
  for (int i = 0; i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t& element = partitions->elems[i];
    auto topic = std::find(consumed_topics_.begin(), consumed_topics_.end(), element.topic);
    SLUICE_CHECK(topic != consumed_topics_.end(), "assigned a topic this worker does not consume");
    TopicPartition where{static_cast<int32_t>(topic - consumed_topics_.begin()),
                         element.partition};
    PartitionContext& context = partitions_[where];
    context = PartitionContext{};
    context.where = where;
    context.set_reason(kPauseFlow, flow_pauses_partitions());
    context.set_reason(kPauseStopping, stopping_);
    context.set_reason(kPauseStageDown, stage_down_);
    context.set_reason(kPauseHeld, held());
    context.set_reason(kPauseBackpressure, backpressure_shut_);
    open_partition_state(context);
    added.push_back(&context);
  }
  read_starts(added, kStartReadTimeoutMs);
  assign_known(added);
  size_t input = static_cast<size_t>(std::count_if(added.begin(), added.end(), [](auto* c) {
    return c->where.topic == kInputTopic;
  }));
  spdlog::info("stage {}: assigned {} partitions of {} (and {} of {})", spec_->name, input,
               consumed_topics_[kInputTopic], added.size() - input, consumed_topics_[kRetryTopic]);
  assignment_changed();
}

// What the observer hears of: the input's partitions (each comes with its
// retry partition).
size_t WorkerImpl::input_partitions() const {
  return static_cast<size_t>(std::count_if(partitions_.begin(), partitions_.end(), [](const auto& e) {
    return e.first.topic == kInputTopic;
  }));
}

bool WorkerImpl::cooperative() const {
  return std::string_view(rd_kafka_rebalance_protocol(consumer_.get())) == "COOPERATIVE";
}

// Tells librdkafka about the partitions of `joining` (just assigned, or whose
// start just became known) whose start is known, each at exactly where its
// fetch must go on. Eager: the whole assignment is replaced, so every known
// partition is listed; cooperative: only `joining` is added. A partition
// still in kStarting is left out: nothing is fetched for it until its
// committed read succeeds, and then this runs again.
void WorkerImpl::assign_known(const std::vector<PartitionContext*>& joining) {
  bool incremental = cooperative();
  std::vector<PartitionContext*> listed;
  if (incremental) {
    listed = joining;
  } else {
    for (auto& [where, context] : partitions_) listed.push_back(&context);
  }
  std::erase_if(listed, [](const PartitionContext* c) { return c->phase == PartitionPhase::kStarting; });
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(listed.size())));
  for (PartitionContext* context : listed) {
    rd_kafka_topic_partition_t* element = rd_kafka_topic_partition_list_add(
        list.get(), consumed_topics_[context->where.topic].c_str(), context->where.partition);
    // With no commit at all, librdkafka's auto.offset.reset decides.
    element->offset = !context->offsets.started() ? RD_KAFKA_OFFSET_INVALID
                      : context->phase == PartitionPhase::kRewinding
                          ? context->offsets.position()
                          : context->offsets.next_fetch();
    // (A rewind that must first read the committed offset still does, and
    // seeks then: until then it stays paused, dropping what it fetches.)
    if (context->phase == PartitionPhase::kRewinding && !context->reread_committed) {
      context->phase = PartitionPhase::kActive;
      context->set_reason(kPauseRewinding, false);
    }
  }
  Status s = incremental ? kafka_status(KafkaError(rd_kafka_incremental_assign(
                                                       consumer_.get(), list.get()))
                                            .get(),
                                        "assign")
                         : kafka_status(rd_kafka_assign(consumer_.get(), list.get()), "assign");
  if (!s.is_ok()) spdlog::error("stage {}: {}", spec_->name, s.message());
  // librdkafka keeps a partition's paused flag across assignments: state it
  // afresh for each (resuming one not paused is harmless since 2.4.0).
  PartitionList pause(rd_kafka_topic_partition_list_new(0));
  PartitionList resume(rd_kafka_topic_partition_list_new(0));
  for (PartitionContext* context : listed) {
    context->paused = context->should_pause();
    rd_kafka_topic_partition_list_add(context->paused ? pause.get() : resume.get(),
                                      consumed_topics_[context->where.topic].c_str(),
                                      context->where.partition);
  }
  if (pause->cnt > 0) rd_kafka_pause_partitions(consumer_.get(), pause.get());
  if (resume->cnt > 0) rd_kafka_resume_partitions(consumer_.get(), resume.get());
}

// Reads the committed offsets of `contexts` (all in kStarting) in one request.
// Each one read moves to kActive with its start and the offsets its previous
// owner finished above it (skipped, not rerun); one with no commit at all
// starts at its first fetched offset. A failed read, as a whole or for one
// partition, leaves it in kStarting for a later try.
void WorkerImpl::read_starts(std::vector<PartitionContext*> contexts, int timeout_ms) {
  for (PartitionContext* context : contexts) context->set_reason(kPauseStarting, true);
  for (PartitionContext* context : read_committed(std::move(contexts), timeout_ms)) {
    context->phase = PartitionPhase::kActive;
    context->set_reason(kPauseStarting, false);
  }
}

// One committed-offsets request for `contexts`: each one read gets its
// offsets from it (PartitionOffsets::from_first_fetch() when nothing was
// ever committed: a partition in kStarting; a rewound one goes back to
// where it started); each one not read waits with backoff. Returns those read.
std::vector<PartitionContext*> WorkerImpl::read_committed(std::vector<PartitionContext*> contexts,
                                                          int timeout_ms) {
  std::vector<PartitionContext*> read_ok;
  if (contexts.empty()) return read_ok;
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(contexts.size())));
  for (PartitionContext* context : contexts) {
    rd_kafka_topic_partition_list_add(list.get(), consumed_topics_[context->where.topic].c_str(),
                                      context->where.partition);
  }
  Status read = kafka_status(rd_kafka_committed(consumer_.get(), list.get(), timeout_ms),
                             "read committed offsets of " + consumed_topics_[kInputTopic] +
                                 " and " + consumed_topics_[kRetryTopic]);
  size_t skipped = 0;
  for (size_t i = 0; i < contexts.size(); ++i) {
    PartitionContext& context = *contexts[i];
    const rd_kafka_topic_partition_t& element = list->elems[i];
    Status one = read.is_ok() ? kafka_status(element.err, "read committed offset of " +
                                                              std::string(element.topic) + "[" +
                                                              std::to_string(element.partition) +
                                                              "]")
                              : read;
    if (!one.is_ok()) {
      context.backoff = next_backoff(context.backoff);
      context.retry_at = Clock::now() + context.backoff;
      spdlog::warn("stage {}: {}; partition {} waits, paused, and the read is tried again in "
                   "{} ms", spec_->name, one.message(), element.partition,
                   context.backoff.count());
      continue;
    }
    if (element.offset >= 0) {
      std::vector<OffsetRange> done;
      if (element.metadata != nullptr) {
        done = decode_done_offsets(
            element.offset, std::string_view(static_cast<const char*>(element.metadata),
                                             element.metadata_size));
      }
      for (const OffsetRange& range : done) skipped += static_cast<size_t>(range.last - range.first + 1);
      context.offsets = PartitionOffsets(element.offset, std::move(done));
      context.offsets.mark_committed(element.offset);
    } else if (context.phase == PartitionPhase::kRewinding) {
      context.offsets = PartitionOffsets(context.offsets.start());
    } else {
      context.offsets = PartitionOffsets::from_first_fetch();
    }
    context.backoff = std::chrono::milliseconds(0);
    read_ok.push_back(&context);
  }
  if (skipped > 0) {
    spdlog::info("stage {}: {} records finished by the previous owner will be skipped",
                 spec_->name, skipped);
  }
  return read_ok;
}

// Revocation (eager: of every partition; cooperative: of some): finish the
// tasks running for these partitions (within the shutdown deadline), commit
// with the offsets done above each position (bounded too), and drop the rest
// uncommitted. The next owner starts at the commit and skips what was handed
// over as done. A lost assignment (the group moved on without us) is
// abandoned at once: another member owns those partitions already, and a
// commit from this generation would be refused.
void WorkerImpl::revoke(rd_kafka_topic_partition_list_t* partitions) {
  std::set<PartitionContext*> revoked;
  size_t revoked_input = 0;
  for (int i = 0; i < partitions->cnt; ++i) {
    if (PartitionContext* context =
            find_partition(partitions->elems[i].topic, partitions->elems[i].partition)) {
      revoked.insert(context);
    }
  }
  auto of_revoked = [&](const TaskRecord& r) { return revoked.count(r.partition) != 0; };
  bool lost = rd_kafka_assignment_lost(consumer_.get()) != 0;
  bool clean = false;  // every task of them ended, acknowledged and committed
  if (lost) {
    spdlog::warn("stage {}: assignment of {} partitions lost; abandoning their tasks "
                 "uncommitted (the new owner runs them)", spec_->name, revoked.size());
    // Their records in the open transaction must never be visible: it aborts,
    // and the partitions kept (if any) go back to their committed offsets.
    if (exactly_once_) abort_and_rewind(Clock::now() + kTransactionDeadline);
  } else {
    // While stopping, the shutdown's own deadline still holds.
    auto deadline = stopping_ ? stop_deadline() : Clock::now() + options_.shutdown_deadline;
    drain_until(deadline, of_revoked);
    bool committed = commit_and_wait(deadline);
    if (!committed) log_uncommitted();
    size_t unfinished = 0;
    records_.for_each([&](const TaskRecord& r) { unfinished += of_revoked(r) ? 1 : 0; });
    clean = committed && unfinished == 0;
    if (unfinished > 0) {
      spdlog::warn("stage {}: {} tasks unfinished at revocation; the next owner reruns them",
                   spec_->name, unfinished);
    }
  }
  drop_records(of_revoked);
  for (PartitionContext* context : revoked) {
    close_partition_state(*context, clean);
    revoked_input += context->where.topic == kInputTopic ? 1 : 0;
    partitions_.erase(context->where);
  }
  // Cooperative: only these partitions go; eager: all of them (the list is the
  // whole assignment).
  Status s = cooperative()
                 ? kafka_status(
                       KafkaError(rd_kafka_incremental_unassign(consumer_.get(), partitions)).get(),
                       "unassign")
                 : kafka_status(rd_kafka_assign(consumer_.get(), nullptr), "unassign");
  if (!s.is_ok()) spdlog::error("stage {}: {}", spec_->name, s.message());
  spdlog::info("stage {}: revoked {} partitions of {} (and {} of {})", spec_->name,
               revoked_input, consumed_topics_[kInputTopic], revoked.size() - revoked_input,
               consumed_topics_[kRetryTopic]);
  assignment_changed();
}

// Forgets the selected records, uncommitted. Waiting, parked and producing
// records go (a parked one frees its key); a running one is abandoned: it keeps its
// slot and key until the stage's outcome arrives (task_state.h).
void WorkerImpl::drop_records(const std::function<bool(const TaskRecord&)>& which) {
  std::set<uint64_t> dropped_waiting;
  records_.for_each([&](TaskRecord& record) {
    if (record.state == TaskState::kAbandoned || !which(record)) return;
    switch (record.state) {
      case TaskState::kWaiting:
        dropped_waiting.insert(record.id);
        break;
      case TaskState::kDelayed:
        break;  // it holds no lane
      case TaskState::kRunning:
        move_to(record, TaskState::kAbandoned);
        record.partition = nullptr;
        return;
      case TaskState::kParked:
        dispatcher_.release_key(record.lane);
        break;
      case TaskState::kProducing:
        break;  // its key was released when it was produced
      case TaskState::kAbandoned:
        return;
    }
    erase_record(record);
  });
  if (!dropped_waiting.empty()) {
    dispatcher_.remove_waiting_if(
        [&](uint64_t id) { return dropped_waiting.count(id) != 0; });
  }
}

// A record of this partition was not delivered: everything of it not yet
// acknowledged is dropped, and it is paused until a seek takes it back to
// its committable position (recover_phase). Acknowledged offsets above that
// position are skipped when read again, so only unacknowledged work reruns.
void WorkerImpl::start_rewind(PartitionContext& partition) {
  // Nothing read yet: nothing to go back to.
  if (partition.phase == PartitionPhase::kStarting || !partition.offsets.started()) return;
  if (exactly_once_) {
    discard_uncommitted_state(partition);
    // What this worker saw done since the last commit went with the aborted
    // transaction: only the broker's committed offsets say what is done.
    partition.reread_committed = true;
    if (partition.phase != PartitionPhase::kRewinding) partition.retry_at = Clock::now();
  }
  if (partition.phase != PartitionPhase::kRewinding) {
    if (!exactly_once_) {
      partition.offsets = partition.offsets.rewound();
      partition.backoff = next_backoff(partition.backoff);
      partition.retry_at = Clock::now() + partition.backoff;
    }
    partition.phase = PartitionPhase::kRewinding;
    partition.set_reason(kPauseRewinding, true);
  }
  partition.delayed.clear();  // its delayed records go too, and are read again
  partition.changelog.clear();  // and the writes and offsets waiting for a flush
  PartitionContext* which = &partition;
  drop_records([which](const TaskRecord& r) { return r.partition == which; });
}

// Rebuilds a producer that hit a fatal error (rewinding every partition), and
// retries committed reads and seeks that are due. All bounded and
// non-blocking for the partitions that are active.
Status WorkerImpl::recover_phase() {
  if (rewind_all_ || sink_->needs_rebuild()) {
    // The fatal error may be served before the delivery reports of the batch
    // that caused it: serve those first (briefly), while their records still
    // exist, so a record the broker refused as too large is dead-lettered
    // when read again instead of failing the rebuilt producer the same way.
    for (int i = 0; i < 4 && sink_->awaiting_acks() > 0; ++i) sink_->poll(50);
    rewind_all_ = false;
    for (auto& [where, partition] : partitions_) start_rewind(partition);
    // A stop ends the loop next: a rebuild then would only hold it up.
    if (sink_->needs_rebuild() && !stop_seen()) {
      // A record that failed in the old producer's transaction doomed that
      // transaction only: it goes with the old producer, and the new one's
      // first transaction must not abort for it.
      transaction_doomed_ = false;
      // exactly_once: a new producer's transactions need the broker; without
      // it the partitions stay paused and the rebuild is tried again.
      if (Status s = sink_->rebuild(); !s.is_ok()) {
        if (s.code() != StatusCode::kTransient) return s;
        spdlog::warn("stage {}: {}; tried again", spec_->name, s.message());
      }
    }
  }
  auto now = Clock::now();
  std::vector<PartitionContext*> starting, rereading, rewinding;
  for (auto& [where, partition] : partitions_) {
    if (partition.retry_at > now) continue;
    if (partition.phase == PartitionPhase::kStarting) starting.push_back(&partition);
    if (partition.phase == PartitionPhase::kRewinding) {
      (partition.reread_committed ? rereading : rewinding).push_back(&partition);
    }
  }
  for (PartitionContext* context : read_committed(rereading, kStartReadTimeoutMs)) {
    context->reread_committed = false;
    rewinding.push_back(context);
  }
  if (!starting.empty()) {
    read_starts(starting, kStartReadTimeoutMs);
    // Those now known join the assignment, at their start.
    bool known = std::any_of(starting.begin(), starting.end(), [](const PartitionContext* c) {
      return c->phase == PartitionPhase::kActive;
    });
    if (known) assign_known(starting);
  }
  seek_rewound(rewinding);
  apply_pauses();
  return Status::ok();
}

// Seeks each partition to its position; one whose seek fails (as a whole or
// for it alone) stays in kRewinding for a later try, dropping what it fetches.
void WorkerImpl::seek_rewound(std::vector<PartitionContext*> contexts) {
  if (contexts.empty()) return;
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(contexts.size())));
  for (PartitionContext* context : contexts) {
    rd_kafka_topic_partition_t* element = rd_kafka_topic_partition_list_add(
        list.get(), consumed_topics_[context->where.topic].c_str(), context->where.partition);
    element->offset = context->offsets.position();  // kRewinding implies started()
  }
  KafkaError error(rd_kafka_seek_partitions(consumer_.get(), list.get(), kSeekTimeoutMs));
  Status all = kafka_status(error.get(), "seek " + consumed_topics_[kInputTopic] + " and " +
                                             consumed_topics_[kRetryTopic]);
  for (size_t i = 0; i < contexts.size(); ++i) {
    PartitionContext& context = *contexts[i];
    const rd_kafka_topic_partition_t& element = list->elems[i];
    Status one = all.is_ok() ? kafka_status(element.err, "seek " + std::string(element.topic) +
                                                             "[" + std::to_string(element.partition) +
                                                             "]")
                             : all;
    if (!one.is_ok()) {
      context.backoff = next_backoff(context.backoff);
      context.retry_at = Clock::now() + context.backoff;
      spdlog::error("stage {}: {}; partition {} stays paused, seek tried again in {} ms",
                    spec_->name, one.message(), element.partition, context.backoff.count());
      continue;
    }
    spdlog::warn("stage {}: rewound {}[{}] to offset {}", spec_->name, element.topic,
                 element.partition, element.offset);
    context.phase = PartitionPhase::kActive;
    context.set_reason(kPauseRewinding, false);
  }
}

// Counts tasks not yet produced and the input bytes they hold, and records
// awaiting acks (bounded by the sink: a congested sink pauses too). Pausing
// is costly (librdkafka drops what it prefetched), hence the hysteresis.
//
// Not for the congestion of a hold (exactly_once: records of the next
// transaction waiting while this one's are acknowledged), which ends with
// the commit: no task starts meanwhile, but fetching goes on. A pause for it
// cost more than the refetch: the resumed partitions waited for the fetch in
// flight, long-polling the empty retry partitions for fetch.wait.max.ms, and
// a transaction of max_transaction_records was followed by 0.5 s of nothing
// (bench/README.md, transactions_benchmark).
//
// Nor, at first, for the tasks that pile up during a hold: a hold ends
// within kTransactionDeadline, so the bound first stops the intake (records
// stay in librdkafka's fetch queue, bounded by queued.max.messages.kbytes)
// and pauses only if it lasts kMaxIntakeStop. Pausing dropped the prefetched
// records, and each transaction of max_transaction_records was followed by
// 0.3-0.7 s of few records (transactions_benchmark, 1 stage).
void WorkerImpl::flow_control_phase() {
  size_t buffered = dispatcher_.waiting() + dispatcher_.in_flight() + parked_ + delayed_;
  bool output_blocked = sink_->congested() && !sink_->holding();
  // The stage's max_buffered_tasks and max_buffered_bytes (topics/spec.h).
  auto max_tasks = static_cast<size_t>(spec_->max_buffered_tasks);
  auto max_bytes = static_cast<size_t>(spec_->max_buffered_bytes);
  bool full = buffered >= max_tasks || body_bytes_ >= max_bytes || output_blocked;
  bool half_empty = buffered <= max_tasks / 2 && body_bytes_ <= max_bytes / 2 && !output_blocked;
  auto now = Clock::now();
  if (!flow_paused_ && full) {
    flow_paused_ = true;
    if (sink_->holding()) intake_stopped_since_ = now;
  } else if (flow_paused_ && half_empty) {
    flow_paused_ = false;
    intake_stopped_since_.reset();
  }
  follow_backpressure(buffered);
  flush_changelogs(/*full=*/true);
  if (bool paused = flow_paused_ || backpressure_shut_ || held_back_; paused != paused_reported_) {
    paused_reported_ = paused;
    observer_->paused_changed(paused);
  }
  // Rebalance callbacks wait while the intake is stopped: bounded.
  if (intake_stopped_since_ && now - *intake_stopped_since_ >= kMaxIntakeStop) {
    intake_stopped_since_.reset();
  }
  check_stage_health();
  update_retry_pauses();
  follow_circuit();
  if (uint64_t held_back = task_log_.take_held_back(Clock::now())) {
    spdlog::info("stage {}: {} more retries and dead letters were not logged (over {} lines a "
                 "second); their histories, the DLQ and sluice_task_errors_total have them all",
                 spec_->name, held_back, task_log_.per_second());
  }
  bool held_now = held();
  for (auto& [where, partition] : partitions_) {
    partition.set_reason(kPauseFlow, flow_pauses_partitions());
    partition.set_reason(kPauseStageDown, stage_down_);
    partition.set_reason(kPauseHeld, held_now);
    partition.set_reason(kPauseBackpressure, backpressure_shut_);
    if (window_half_empty(partition)) partition.set_reason(kPauseWindow, false);
  }
  apply_pauses();
}

bool WorkerImpl::window_full(const PartitionContext& partition) const {
  return partition.offsets.window() >= options_.max_window_per_partition ||
         (exactly_once_ &&
          partition.offsets.done_ranges_bound() >= options_.max_done_ranges_per_partition);
}

bool WorkerImpl::window_half_empty(const PartitionContext& partition) const {
  return partition.offsets.window() <= options_.max_window_per_partition / 2 &&
         (!exactly_once_ ||
          partition.offsets.done_ranges_bound() <= options_.max_done_ranges_per_partition / 2);
}

// A few times a second: an unavailable stage pauses every partition (its
// tasks wait, charged nothing), a failed one stops the worker.
void WorkerImpl::check_stage_health() {
  constexpr auto kInterval = std::chrono::milliseconds(100);
  auto now = Clock::now();
  if (now < next_health_check_) return;
  next_health_check_ = now + kInterval;
  StageHealth health = stage_->health();
  if (health.kind == StageHealth::Kind::kFailed) {
    if (fatal_.is_ok()) fatal_ = fatal_error(health.why);
    return;
  }
  bool down = health.kind == StageHealth::Kind::kUnavailable;
  if (down != stage_down_) {
    spdlog::log(down ? spdlog::level::warn : spdlog::level::info, "stage {}: {}", spec_->name,
                down ? "unavailable, consumption paused: " + health.why
                     : "available again, consumption resumed");
  }
  stage_down_ = down;
}

// Tells librdkafka about every partition whose paused state should change.
// Called every loop iteration: allocates nothing unless something changes.
void WorkerImpl::apply_pauses() {
  bool changed = std::any_of(partitions_.begin(), partitions_.end(), [](const auto& entry) {
    return entry.second.paused != entry.second.should_pause();
  });
  if (!changed) return;
  PartitionList pause(rd_kafka_topic_partition_list_new(0));
  PartitionList resume(rd_kafka_topic_partition_list_new(0));
  for (auto& [where, partition] : partitions_) {
    if (partition.paused == partition.should_pause()) continue;
    partition.paused = partition.should_pause();
    rd_kafka_topic_partition_list_add(partition.paused ? pause.get() : resume.get(),
                                      consumed_topics_[where.topic].c_str(), where.partition);
  }
  if (pause->cnt > 0) rd_kafka_pause_partitions(consumer_.get(), pause.get());
  if (resume->cnt > 0) rd_kafka_resume_partitions(consumer_.get(), resume.get());
}

}  // namespace sluice::engine
