// WorkerImpl: the consumer-group member behind sluice::Worker.
//
// Everything here runs on the thread that called run(), including librdkafka
// callbacks (they fire from the poll calls the loop makes) and stage outcomes
// (stages hand them over through the CompletionQueue). One iteration of the
// loop is a short list of phases: consume, dispatch, complete, deliver,
// recover, commit, flow control.
//
// State per consumed (topic, partition) lives in its PartitionContext
// (partition_context.h: lifecycle, offsets, pause reasons); every write to
// Kafka and every commit goes through the OutputSink (output_sink.h); task
// records follow the table in task_state.h. Files: worker.cc (lifecycle and
// loop), worker_intake.cc, worker_outcomes.cc, worker_partitions.cc
// (rebalance, rewind, pausing), worker_retries.cc (retries, the retry
// topic's delayed records, timeouts), worker_commit.cc, and for
// exactly_once worker_transactions.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "circuit_breaker.h"
#include "completion_queue.h"
#include "envelope.pb.h"
#include "input_decoder.h"
#include "kafka_handles.h"
#include "key_dispatcher.h"
#include "lag_watcher.h"
#include "log_budget.h"
#include "output_encoder.h"
#include "output_sink.h"
#include "partition_context.h"
#include "record_slab.h"
#include "stage_state_view.h"
#include "state_restorer.h"
#include "state_store.h"
#include "state_writes.h"
#include "sluice/log_fields.h"
#include "sluice/worker.h"
#include "task_codec.h"
#include "task_state.h"

namespace sluice::engine {

using Clock = std::chrono::steady_clock;

class WorkerImpl final : public Worker {
 public:
  WorkerImpl(WorkerOptions options, std::unique_ptr<Stage> stage);
  ~WorkerImpl() override;

  Status start();
  Status run(const std::atomic<bool>& stop) override;

  // Entry point for the noexcept librdkafka trampoline.
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);

 private:
  // What a task needs until its outputs are produced. Tens of thousands of
  // records can be waiting for acks, so they give their body back to a pool
  // of spares: the few bodies in use stay warm in the cache, with their
  // buffers already grown.
  struct TaskBody {
    std::string input_bytes;  // the record value as consumed
    InputFields input;        // what its outputs carry on
    Task task;
    // The input as a message: read from input_bytes only when a retry or a
    // dead letter needs it whole (its error history grows with each retry).
    std::optional<v1::Envelope> envelope;
    // A stateful stage: what this run of the task wrote (worker_state.cc).
    StateWrites state_writes;
  };
  struct TaskRecord {
    uint64_t id = 0;
    // Null once abandoned (task_state.h): its partition no longer counts it.
    PartitionContext* partition = nullptr;
    int64_t offset = 0;
    TaskState state = TaskState::kWaiting;
    bool dead_letter = false;  // what it produces is its dead letter
    int pending_acks = 0;
    KeyDispatcher::LaneRef lane;  // the lane of task.key, while it holds one
    uint32_t run = 0;             // starts so far: its outcome names the run it ends
    Clock::time_point started;
    std::unique_ptr<TaskBody> body;  // null once produced (kProducing)
    // A stateful stage's task whose writes wait in its partition's
    // ChangelogCache: acknowledged, its offset waits there for a flush.
    bool changelog_cached = false;
    // Not a task but flush `changelog_flush` (non-zero) of its partition's
    // ChangelogCache, in kProducing until every record of it is acknowledged.
    uint64_t changelog_flush = 0;
  };
  struct OutputTarget {
    const Output* output;
    const std::string* topic;
    const std::string* stage;  // empty string: <pipeline>.done
  };
  struct Due {
    Clock::time_point at;
    uint64_t id;
    bool operator>(const Due& other) const { return at > other.at; }
  };
  using DueQueue = std::priority_queue<Due, std::vector<Due>, std::greater<>>;
  // A run that timed out, remembered a while so its late outcome is named
  // when it arrives.
  struct TimedOut {
    uint64_t record_id;
    uint32_t run;
    std::string task_id, job_id;
  };

  // worker.cc
  Status create_consumer();
  Status check_topics();
  void run_once();
  void dispatch_and_complete_phase();
  int poll_wait_ms() const;
  bool stop_seen() const;
  bool abandon_seen() const;
  Clock::time_point stop_deadline();
  Status shutdown();
  void drain_until(Clock::time_point deadline,
                   const std::function<bool(const TaskRecord&)>& counts);
  void close_consumer(Clock::time_point deadline);
  void move_to(TaskRecord& record, TaskState state);

  // worker_intake.cc
  void consume_phase(int wait_ms);
  int32_t topic_index(const rd_kafka_message_t* message);
  void take_in(const rd_kafka_message_t* message);
  void dispatch_phase();
  void start_task(TaskRecord& record);
  void run_sync_task(TaskRecord& record);

  // worker_outcomes.cc
  void completion_phase();
  void handle_outcome(TaskRecord& record, Outcome& outcome);
  void produce_outputs(TaskRecord& record, Outcome& outcome);
  const TaskPart* output_part(const TaskRecord& record, const Outcome& outcome, size_t index);
  bool encode_extra_dead_letters(TaskRecord& record, const Outcome& outcome);
  void encode_letter(v1::Envelope& letter, std::string* bytes, std::vector<RecordHeader>* headers);
  void dead_letter(TaskRecord& record, const Outcome& outcome);
  // A task-level log line's fields (task_log.h); they point into `task`.
  LogFields log_fields(const Task& task, std::string_view error_kind = {}) const {
    return {spec_->name, task.job_id, task.id, task.attempt, error_kind};
  }
  void send_dead_letter(TaskRecord& record);
  v1::Envelope& input_envelope(TaskRecord& record);
  void release_body(TaskRecord& record);
  void erase_record(TaskRecord& record);
  void on_acked(uint64_t record_id);
  void on_send_failed(uint64_t record_id, SendFailure failure, const std::string& why);
  void observe(TaskResult result, const TaskRecord& record);
  void ignore_late_outcome(const Completed& done);

  // worker_retries.cc
  void retry_later(TaskRecord& record, const Outcome& outcome);
  void add_to_history(TaskRecord& record, const Failure& failure);
  void send_retry(TaskRecord& record, const Failure& failure, Clock::duration delay);
  void refused_later(TaskRecord& record);
  void park(TaskRecord& record, Clock::duration wait);
  void hold_stage(Clock::duration wait);
  bool held() const { return Clock::now() < held_until_; }
  void delay_until_due(TaskRecord& record, PartitionContext& partition, int64_t not_before_unix_ms);
  void release_due_retries();
  void update_retry_pauses();
  void watch_timeout(const TaskRecord& record);
  void expire_timeouts();
  bool may_start_task();
  void wait_out_circuit(TaskRecord& record, const Outcome& outcome);
  void follow_circuit();

  // worker_partitions.cc
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void read_starts(std::vector<PartitionContext*> contexts, int timeout_ms);
  std::vector<PartitionContext*> read_committed(std::vector<PartitionContext*> contexts,
                                                int timeout_ms);
  void assign_known(const std::vector<PartitionContext*>& joining);
  bool cooperative() const;
  size_t input_partitions() const;
  void revoke(rd_kafka_topic_partition_list_t* partitions);
  PartitionContext* find_partition(const char* topic, int32_t partition);
  void drop_records(const std::function<bool(const TaskRecord&)>& which);
  void start_rewind(PartitionContext& partition);
  Status recover_phase();
  void seek_rewound(std::vector<PartitionContext*> contexts);
  void flow_control_phase();
  // The offset window's hysteresis: a partition pauses when its window (or,
  // under exactly_once, its done ranges, which the commit metadata carries)
  // is full, and resumes once it is half empty.
  bool window_full(const PartitionContext& partition) const;
  bool window_half_empty(const PartitionContext& partition) const;
  void check_stage_health();
  void apply_pauses();

  // worker_state.cc
  Status open_state();
  Status check_changelog() const;
  bool holds_state(const PartitionContext& partition) const;
  void open_partition_state(PartitionContext& partition);
  void restore_phase();
  void finish_restores(const std::vector<StateRestorer::Finished>& finished);
  void close_partition_state(PartitionContext& partition, bool clean);
  void discard_uncommitted_state(PartitionContext& partition);
  void bind_task_state(TaskRecord& record);
  bool take_state_change(TaskRecord& record, const Outcome& outcome);

  // worker_backpressure.cc
  Status start_lag_watcher();
  void assignment_changed();
  void follow_backpressure(size_t buffered);

  // worker_ticks.cc
  void arm_tick(PartitionContext& partition, std::chrono::milliseconds after);
  void tick_phase();
  Status send_tick(const PartitionContext& partition);
  void close_ticks();
  bool apply_task_state(TaskRecord& record);
  bool cache_task_state(TaskRecord& record);
  void defer_to_changelog(TaskRecord& record);
  void flush_changelog(PartitionContext& partition);
  void flush_changelogs(bool full = false);
  void changelog_flushed(TaskRecord& flush);
  void produce_task_state(TaskRecord& record);
  size_t state_records(const TaskRecord& record) const;
  void close_state();

  // worker_commit.cc
  void commit_phase();
  bool commit_and_wait(Clock::time_point deadline);
  void send_commit(bool all);
  void pass_unseen_offsets();
  std::vector<CommitRequest> positions(bool all) const;
  int64_t circuit_until_unix_ms() const;
  void on_committed(const std::string& topic, int32_t partition, int64_t position, bool ok);
  void log_uncommitted() const;

  // worker_transactions.cc
  // Bounds a periodic transaction commit (its flush, then each call): below
  // the default transaction.timeout.ms, so the broker does not abort first.
  static constexpr auto kTransactionDeadline = std::chrono::seconds(8);
  void transaction_phase(bool all);
  void release_hold();
  void doom_unacknowledged(std::string_view when);
  bool commit_transaction(bool all, bool may_wait, Clock::time_point deadline);
  void abort_and_rewind(Clock::time_point deadline);
  void rewind_every_partition();
  bool transaction_due() const {
    return exactly_once_ && (holding_since_ || transaction_doomed_ ||
                             sink_->transaction_records() >= options_.max_transaction_records);
  }

  WorkerOptions options_;
  std::unique_ptr<Stage> stage_;
  SyncStage* sync_stage_;  // stage_, when it is synchronous: called directly
  bool wakes_ = false;     // a stateful stage_ that asks for ticks (Stage::wakes)
  Outcome sync_outcome_;   // reused by every synchronous task
  WorkerObserver* observer_;
  const topics::StageSpec* spec_;  // points into options_.spec
  bool exactly_once_;
  // exactly_once: a record of the open transaction failed; it must abort.
  bool transaction_doomed_ = false;
  // exactly_once: since when the sink holds new records back, for the commit
  // (transaction_phase).
  std::optional<Clock::time_point> holding_since_;
  CircuitBreaker circuit_;
  // Topics this worker consumes; TopicPartition::topic indexes it.
  static constexpr int32_t kInputTopic = 0;
  static constexpr int32_t kRetryTopic = 1;
  std::vector<std::string> consumed_topics_;
  // The rd_kafka_topic_t of each consumed topic once seen, so a message's
  // topic is found without comparing names.
  std::vector<const rd_kafka_topic_t*> consumed_handles_;
  std::string dlq_topic_;
  std::map<std::string, std::string> next_topics_;  // stage name -> topic
  std::vector<std::string> default_output_topics_;

  KafkaHandle consumer_;
  KafkaHandle tick_producer_;  // worker_ticks.cc; made on the first tick
  KafkaQueue consumer_queue_;
  // Declared after the consumer: its commit queue goes first.
  std::unique_ptr<OutputSink> sink_;
  CompletionQueue completions_;
  std::vector<Completed> completed_scratch_;
  std::string serialize_scratch_;  // a dead letter or retry record being produced
  std::vector<RecordHeader> dlq_headers_scratch_;
  // A task's own dead letters (Outcome::dead_letters), encoded before any
  // record of it is produced; and the part its outputs carry.
  std::vector<std::string> extra_letters_scratch_;
  std::vector<std::string> extra_letter_ids_scratch_;
  std::vector<std::vector<RecordHeader>> extra_letter_headers_scratch_;
  TaskPart fan_part_scratch_;
  std::vector<std::string> encoded_scratch_;  // the outputs of a task, encoded
  std::vector<std::string> output_ids_scratch_;
  std::vector<std::string_view> output_keys_scratch_;
  std::vector<OutputTarget> targets_scratch_;
  OutputAddress address_scratch_;  // pipeline and source set once

  // A stateful stage's store, its restores, and the view its tasks get
  // (worker_state.cc); null otherwise.
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<StateRestorer> restorer_;
  std::unique_ptr<StageStateView> state_view_;
  std::string changelog_topic_;
  // exactly_once: input partitions whose state was written since the last
  // committed transaction.
  std::set<int32_t> written_since_commit_;
  // at_least_once: the changelog's writes coalesce per key between flushes
  // (changelog_cache.h); the last flush's id.
  bool cache_changelog_ = false;
  uint64_t last_changelog_flush_ = 0;
  bool warned_state_without_store_ = false;
  Clock::time_point next_restore_report_{};  // restore_progress.h

  std::map<TopicPartition, PartitionContext> partitions_;
  KeyDispatcher dispatcher_;
  RecordSlab<TaskRecord> records_;
  std::vector<std::unique_ptr<TaskBody>> spare_bodies_;
  size_t body_bytes_ = 0;  // input bytes held by the bodies in use
  size_t parked_ = 0;      // records in kParked
  size_t delayed_ = 0;     // records in kDelayed
  DueQueue retries_;       // kParked and kDelayed records: when each may go on
  DueQueue timeouts_;      // running tasks of an asynchronous builtin: when each times out
  std::deque<TimedOut> timed_out_;  // the last few, newest at the back
  Clock::time_point held_until_{};  // no task starts before (a stage's retry_after)
  LogBudget task_log_{20};          // retries and dead letters logged a second

  const std::atomic<bool>* stop_ = nullptr;  // run()'s
  bool flow_paused_ = false;
  bool paused_reported_ = false;  // flow_paused_ || backpressure_shut_ || held_back_, as observed
  // worker_backpressure.cc: the gate and the report.
  std::unique_ptr<LagWatcher> lag_watcher_;
  uint64_t gate_version_seen_ = 0;
  bool gate_shut_ = false;
  int64_t room_ = INT64_MAX;           // records to take in until the next reading
  int64_t taken_since_reading_ = 0;    // take_in()'s count
  bool out_of_room_ = false;
  bool ran_out_since_reading_ = false;
  bool ran_out_before_reading_ = false;  // in the interval before the last reading
  bool held_back_ = false;             // out_of_room_ || ran_out_before_reading_
  bool backpressure_shut_ = false;     // gate_shut_ || out_of_room_: kPauseBackpressure
  uint64_t tasks_ended_ = 0;  // observe() calls
  uint64_t tasks_ended_reported_ = 0;
  // Flow control that met a hold (exactly_once) takes no records in instead
  // of pausing, from then until it ends or kMaxIntakeStop has passed
  // (flow_control_phase); unset: flow_paused_ pauses the partitions.
  std::optional<Clock::time_point> intake_stopped_since_;
  static constexpr auto kMaxIntakeStop = std::chrono::seconds(10);
  // Whether flow control pauses the partitions now.
  bool flow_pauses_partitions() const { return flow_paused_ && !intake_stopped_since_; }
  bool stage_down_ = false;                 // StageHealth::kUnavailable, last asked
  Clock::time_point next_health_check_{};
  bool stopping_ = false;
  bool rewind_all_ = false;  // after a fatal producer error
  Status fatal_;
  Clock::time_point next_commit_;
  // Unix time minus steady time, taken once per loop iteration, so a task's
  // end-to-end latency needs no second clock read per task.
  Clock::duration unix_minus_steady_{};
  // options_.shutdown_deadline after the stop was first seen; max() until then.
  Clock::time_point shutdown_deadline_at_ = Clock::time_point::max();
};

}  // namespace sluice::engine
