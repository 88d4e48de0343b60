// A stateful stage's state (`state: true`): the store opened at start, each
// input partition's state restored before its tasks run and closed when the
// partition goes, a task's writes applied and sent to the changelog with its
// outputs.
//
// Where the state of input partition N lives: column family N of this
// worker's StateStore, and partition N of <p>.<stage>.changelog. Tasks of
// the retry topic's partition N use it too; a stateful stage retries in
// place (start()), so that topic stays empty.
//
// What makes a close clean (a checkpoint is written, and the next owner
// restores from it): every record of the partition's tasks acknowledged and
// committed, and under exactly_once no write since the last committed
// transaction. Anything else closes it unclean: wiped and restored in full
// next time. Under exactly_once an aborted transaction also wipes the
// partitions it wrote and restores them (read_committed: without the
// aborted writes) before their tasks run again.
#include <spdlog/spdlog.h>

#include "changelog_retention.h"
#include "kafka_errors.h"
#include "restore_progress.h"
#include "sluice/topics/names.h"
#include "state_keys.h"
#include "topic_config.h"
#include "topic_metadata.h"
#include "worker_impl.h"

namespace sluice::engine {
namespace {

constexpr int kCheckpointQueryTimeoutMs = 2000;
constexpr int kRestoreBatchesPerIteration = 16;
// A partition's changelog cache flushes at each commit, or sooner at these:
// its offsets stay in the partition's window meanwhile (max_window_per_partition,
// 100,000 by default), and its writes in memory.
constexpr size_t kMaxDeferredOffsets = 10000;
constexpr size_t kMaxCachedBytes = 1 << 20;

}  // namespace

Status WorkerImpl::open_state() {
  if (!spec_->state) return Status::ok();
  if (spec_->retry.mode != topics::RetryMode::kInPlace) {
    return usage_error("stage " + spec_->name +
                       ": state: true needs retry: {mode: in_place} (a retry must run where "
                       "its key's state is, with its input partition)");
  }
  if (options_.state_dir.empty()) {
    return usage_error("stage " + spec_->name + ": state: true needs a state directory");
  }
  changelog_topic_ = topics::changelog_topic(options_.spec.pipeline, spec_->name);
  auto topics = describe_topics(sink_->producer(), options_.kafka);
  if (!topics.is_ok()) return topics.status();
  auto input = topics->find(consumed_topics_[kInputTopic]);
  auto changelog = topics->find(changelog_topic_);
  if (changelog == topics->end()) {
    return not_found("topic " + changelog_topic_ + " does not exist on " +
                     options_.kafka.bootstrap + "; create it with `sluice topics apply -f " +
                     options_.spec.file + "`");
  }
  if (input != topics->end() && input->second.partitions != changelog->second.partitions) {
    return usage_error("topic " + changelog_topic_ + " has " +
                       std::to_string(changelog->second.partitions) + " partitions and " +
                       consumed_topics_[kInputTopic] + " " +
                       std::to_string(input->second.partitions) +
                       ": a changelog partition holds the state of the input partition of "
                       "its number, so they must match");
  }
  if (Status s = check_changelog(); !s.is_ok()) return s;
  auto store = StateStore::open(options_.state_dir);
  if (!store.is_ok()) return store.status();
  store_ = std::move(store).value();
  auto restorer =
      StateRestorer::create(options_.kafka, changelog_topic_, exactly_once_,
                            topics::restore_group_id(options_.spec.pipeline, spec_->name));
  if (!restorer.is_ok()) return restorer.status();
  restorer_ = std::move(restorer).value();
  state_view_ = std::make_unique<StageStateView>(static_cast<size_t>(spec_->max_state_bytes));
  // exactly_once: the writes go in their task's transaction, as they come.
  cache_changelog_ = !exactly_once_;
  spdlog::info("stage {}: state in {} (changelog {})", spec_->name, options_.state_dir,
               changelog_topic_);
  return Status::ok();
}

// The changelog's retention must keep every key's latest value. A config
// that cannot be read (no DescribeConfigs permission, an old broker) is
// not a reason to stop: it is said once, and the worker runs.
Status WorkerImpl::check_changelog() const {
  auto config = describe_topic_config(sink_->producer(), changelog_topic_, options_.kafka);
  if (!config.is_ok()) {
    spdlog::warn("stage {}: cannot check the retention of {}: {}", spec_->name,
                 changelog_topic_, config.status().message());
    return Status::ok();
  }
  RetentionVerdict verdict = check_changelog_retention(changelog_topic_, *config);
  if (!verdict.warning.empty()) spdlog::warn("stage {}: {}", spec_->name, verdict.warning);
  return verdict.refusal;
}

bool WorkerImpl::holds_state(const PartitionContext& partition) const {
  return store_ && partition.where.topic == kInputTopic;
}

// On assignment: the partition's local state opens, and it waits for its
// restore (which begins in restore_phase once its start is known).
void WorkerImpl::open_partition_state(PartitionContext& partition) {
  if (!holds_state(partition)) return;
  // Paused first: a partition whose state cannot open runs nothing while
  // the worker stops.
  partition.set_reason(kPauseRestore, true);
  auto from = store_->open_partition(partition.where.partition);
  if (!from.is_ok()) {
    if (fatal_.is_ok()) fatal_ = from.status();
    return;
  }
  partition.restore_from = *from;
  partition.needs_restore = true;
}

void WorkerImpl::restore_phase() {
  if (!restorer_) return;
  bool began = false;
  for (auto& [where, partition] : partitions_) {
    if (!partition.needs_restore || partition.phase == PartitionPhase::kStarting) continue;
    partition.needs_restore = false;
    partition.restoring = true;
    if (Status s = restorer_->begin(where.partition, partition.restore_from); !s.is_ok()) {
      if (fatal_.is_ok()) fatal_ = s;
      return;
    }
    spdlog::info("stage {}: restoring the state of partition {} from {}[{}]@{}", spec_->name,
                 where.partition, changelog_topic_, where.partition, partition.restore_from);
    began = true;
  }
  // `sluice status` reads how far the restores are (restore_progress.h).
  if (Clock::time_point now = Clock::now(); began || now >= next_restore_report_) {
    restorer_->report({});
    next_restore_report_ = now + kRestoreReportInterval;
  }
  // A few batches per loop iteration while records keep coming: the other
  // partitions' tasks get their turn between calls.
  for (int batch = 0; batch < kRestoreBatchesPerIteration && !restorer_->idle(); ++batch) {
    uint64_t before = restorer_->records_restored();
    auto finished = restorer_->poll(*store_, 0);
    uint64_t applied = restorer_->records_restored() - before;
    observer_->state_restored(applied, restorer_->lag());
    if (!finished.is_ok()) {
      if (fatal_.is_ok()) fatal_ = finished.status();
      return;
    }
    finish_restores(*finished);
    if (applied == 0) return;
  }
}

void WorkerImpl::finish_restores(const std::vector<StateRestorer::Finished>& finished) {
  if (!finished.empty()) restorer_->report(finished);
  for (const StateRestorer::Finished& done : finished) {
    auto it = partitions_.find({kInputTopic, done.partition});
    if (it == partitions_.end()) continue;
    it->second.restoring = false;
    it->second.set_reason(kPauseRestore, false);
    arm_tick(it->second, std::chrono::milliseconds(0));  // deadlines kept in the state
    spdlog::info("stage {}: state of partition {} restored up to {}[{}]@{}", spec_->name,
                 done.partition, changelog_topic_, done.partition, done.offset);
  }
}

// `clean`: every task of the partition ended, acknowledged and committed.
void WorkerImpl::close_partition_state(PartitionContext& partition, bool clean) {
  if (!holds_state(partition) || !store_->is_open(partition.where.partition)) return;
  int32_t number = partition.where.partition;
  if (partition.restoring) {
    if (Status s = restorer_->cancel(number); !s.is_ok()) spdlog::warn("{}", s.message());
    clean = false;
  }
  clean = clean && !partition.needs_restore && !written_since_commit_.count(number) &&
          partition.changelog.idle();
  written_since_commit_.erase(number);
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t err =
      clean ? rd_kafka_query_watermark_offsets(sink_->producer(), changelog_topic_.c_str(),
                                               number, &low, &high, kCheckpointQueryTimeoutMs)
            : RD_KAFKA_RESP_ERR_NO_ERROR;
  if (clean && err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    Status s = store_->close_partition(number, high);
    if (s.is_ok()) return;
    spdlog::warn("stage {}: {}; the next owner restores partition {} in full", spec_->name,
                 s.message(), number);
    return;
  }
  if (clean) {
    spdlog::warn("stage {}: {}; the next owner restores partition {} in full", spec_->name,
                 kafka_status(err, "read the end of " + changelog_topic_).message(), number);
  }
  store_->abandon_partition(number);
}

// exactly_once: the partition's writes since the last commit were aborted
// with their transaction, but the local store has them: it is wiped, and
// restored before the partition's tasks run again.
void WorkerImpl::discard_uncommitted_state(PartitionContext& partition) {
  if (!holds_state(partition) || !written_since_commit_.count(partition.where.partition)) return;
  int32_t number = partition.where.partition;
  written_since_commit_.erase(number);
  if (partition.restoring) {
    if (Status s = restorer_->cancel(number); !s.is_ok()) spdlog::warn("{}", s.message());
  }
  partition.restoring = false;
  if (Status s = store_->wipe_partition(number); !s.is_ok()) {
    if (fatal_.is_ok()) fatal_ = s;
    return;
  }
  partition.restore_from = 0;
  partition.needs_restore = true;
  partition.set_reason(kPauseRestore, true);
}

// Before a task runs: its staged writes start empty, and the view serves it.
void WorkerImpl::bind_task_state(TaskRecord& record) {
  if (!store_) return;
  TaskBody& body = *record.body;
  body.state_writes.clear();
  int32_t number = record.partition->where.partition;
  if (!store_->is_open(number)) {
    body.task.state = nullptr;  // a retry record of a partition this worker does not own
    return;
  }
  state_view_->bind(store_.get(), number, body.task.key, &body.state_writes);
  body.task.state = state_view_.get();
}

// With an ok outcome: the key's own state as an asynchronous stage set it
// (an exec or http result's "state"). False when the task was dead-lettered
// instead: that state is over the stage's bound.
bool WorkerImpl::take_state_change(TaskRecord& record, const Outcome& outcome) {
  if (!outcome.state_change) return true;
  const std::string& task_key = record.body->task.key;
  if (!store_) {
    if (!warned_state_without_store_) {
      warned_state_without_store_ = true;
      spdlog::warn("stage {}: a result set \"state\" (key {}), but the stage has no "
                   "state: set `state: true` in the spec to keep it; ignored",
                   spec_->name, task_key);
    }
    return true;
  }
  std::string key = state_key_prefix(StateKey::Scope::kTaskKey, task_key, kKeyStateName);
  if (!outcome.state_change->value) {
    record.body->state_writes.erase(std::move(key));
    return true;
  }
  const std::string& value = *outcome.state_change->value;
  size_t bytes = key.size() + value.size();
  if (bytes > static_cast<size_t>(spec_->max_state_bytes)) {
    dead_letter(record, Outcome::fail("state_too_large",
                                      "stage " + spec_->name + ": the state set for key " +
                                          task_key + " is " + std::to_string(bytes) +
                                          " bytes, over max_state_bytes " +
                                          std::to_string(spec_->max_state_bytes)));
    return false;
  }
  record.body->state_writes.put(std::move(key), value);
  return true;
}

// Checks and applies a task's writes to its partition's store, before its
// outputs are produced. False when the task went elsewhere instead (a
// dead letter: a changelog record too large; a retry: the store failed).
bool WorkerImpl::apply_task_state(TaskRecord& record) {
  TaskBody& body = *record.body;
  if (!store_ || body.state_writes.empty()) return true;
  if (body.task.state == nullptr) {
    dead_letter(record, Outcome::fail("no_state", "partition " +
                                                      std::to_string(record.partition->where.partition) +
                                                      "'s state is not on this worker"));
    return false;
  }
  for (const auto& [key, value] : body.state_writes.latest()) {
    size_t size = OutputSink::record_bytes({changelog_topic_, key, value ? *value : "",
                                            body.task.job_id, body.task.id});
    if (size > sink_->max_record_bytes()) {
      dead_letter(record, Outcome::fail("too_large", "a state change of " +
                                                         std::to_string(size) +
                                                         " bytes for " + changelog_topic_ +
                                                         " is over max_record_bytes " +
                                                         std::to_string(sink_->max_record_bytes())));
      return false;
    }
  }
  int32_t number = record.partition->where.partition;
  if (Status s = store_->apply(number, body.state_writes); !s.is_ok()) {
    if (s.code() != StatusCode::kTransient && fatal_.is_ok()) fatal_ = s;
    retry_later(record, Outcome::retry("state", s.message()));
    return false;
  }
  if (exactly_once_) written_since_commit_.insert(number);
  return true;
}

// The changelog records of a task whose writes were applied: one per key,
// in the task's record count (pending_acks) like its outputs.
void WorkerImpl::produce_task_state(TaskRecord& record) {
  const TaskBody& body = *record.body;
  uint64_t id = record.id;
  for (const auto& [key, value] : body.state_writes.latest()) {
    OutgoingRecord out{changelog_topic_, key, value ? std::string_view(*value) : std::string_view(),
                       body.task.job_id, body.task.id};
    out.partition = record.partition->where.partition;
    out.tombstone = !value;
    sink_->produce(out, id);
    if (records_.find(id) != &record) return;  // dropped by a failure the sink knew at once
  }
}

// at_least_once: the task's writes join its partition's changelog cache
// instead of going out one record each; its offset then waits for a flush
// (defer_to_changelog). False when they go out with the task.
bool WorkerImpl::cache_task_state(TaskRecord& record) {
  if (!cache_changelog_ || !store_ || record.body->state_writes.empty()) return false;
  ChangelogCache& cache = record.partition->changelog;
  for (const auto& [key, value] : record.body->state_writes.latest()) cache.put(key, value);
  record.changelog_cached = true;
  return true;
}

// A task of cached writes whose outputs are acknowledged: done once the
// next flush of its partition is.
void WorkerImpl::defer_to_changelog(TaskRecord& record) {
  record.partition->changelog.defer(record.offset);
  erase_record(record);
}

// One changelog record per key written since the last flush, counted in a
// record of its own (changelog_flush) like a task's outputs.
void WorkerImpl::flush_changelog(PartitionContext& partition) {
  if (!partition.changelog.has_unflushed()) return;
  uint64_t flush_id = ++last_changelog_flush_;
  std::vector<ChangelogCache::Write> writes = partition.changelog.take(flush_id);
  TaskRecord& flush = records_.create();
  flush.state = TaskState::kProducing;
  flush.dead_letter = false;
  flush.pending_acks = static_cast<int>(writes.size());
  flush.run = 0;
  flush.partition = &partition;
  flush.offset = -1;
  flush.changelog_cached = false;
  flush.changelog_flush = flush_id;
  if (writes.empty()) return changelog_flushed(flush);
  uint64_t id = flush.id;
  for (const ChangelogCache::Write& write : writes) {
    OutgoingRecord out{changelog_topic_, write.key,
                       write.value ? std::string_view(*write.value) : std::string_view(), {}, {}};
    out.partition = partition.where.partition;
    out.tombstone = !write.value;
    sink_->produce(out, id);
    if (records_.find(id) != &flush) return;  // dropped by a failure the sink knew at once
  }
}

// At each commit, and before a handover or a stop (drain_until); `full`:
// only the caches over their bounds, from the loop (never from a delivery
// report, where the sink is busy serving its events).
void WorkerImpl::flush_changelogs(bool full) {
  if (!cache_changelog_) return;
  for (auto& [where, partition] : partitions_) {
    const ChangelogCache& cache = partition.changelog;
    if (!full || cache.deferred() >= kMaxDeferredOffsets ||
        cache.unflushed_bytes() >= kMaxCachedBytes) {
      flush_changelog(partition);
    }
  }
}

// Every record of a flush acknowledged: the offsets it carried (and those of
// earlier flushes that waited for it) are done.
void WorkerImpl::changelog_flushed(TaskRecord& flush) {
  PartitionContext& partition = *flush.partition;
  uint64_t flush_id = flush.changelog_flush;
  erase_record(flush);
  for (int64_t offset : partition.changelog.flushed(flush_id)) partition.offsets.complete(offset);
}

size_t WorkerImpl::state_records(const TaskRecord& record) const {
  return store_ ? record.body->state_writes.latest().size() : 0;
}

void WorkerImpl::close_state() {
  if (!store_) return;
  for (auto& [where, partition] : partitions_) close_partition_state(partition, false);
  restorer_.reset();
  store_.reset();
}

}  // namespace sluice::engine
