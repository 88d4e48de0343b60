// WorkerImpl: the consumer-group member behind sluice::Worker.
//
// Everything here runs on the thread that called run(), including librdkafka
// callbacks (they fire from the poll calls the loop makes) and stage outcomes
// (stages hand them over through the CompletionQueue). One iteration of the
// loop is a short list of phases: consume, dispatch, complete, deliver,
// recover, commit, flow control. Files: worker.cc (lifecycle and loop),
// worker_intake.cc, worker_outcomes.cc, worker_partitions.cc (rebalance,
// rewind, flow control), worker_commit.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "completion_queue.h"
#include "envelope.pb.h"
#include "input_decoder.h"
#include "kafka_handles.h"
#include "key_dispatcher.h"
#include "offset_tracker.h"
#include "output_encoder.h"
#include "record_slab.h"
#include "sluice/worker.h"

namespace sluice::engine {

using Clock = std::chrono::steady_clock;

class WorkerImpl final : public Worker {
 public:
  WorkerImpl(WorkerOptions options, std::unique_ptr<Stage> stage);
  ~WorkerImpl() override;

  Status start();
  Status run(const std::atomic<bool>& stop) override;

  // Entry points for the noexcept librdkafka trampolines.
  void on_rebalance(rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* partitions);
  void on_delivery(const rd_kafka_message_t* message);
  void on_commit(rd_kafka_resp_err_t err,
                 const rd_kafka_topic_partition_list_t* offsets);
  void on_producer_error(int err, const char* reason);

 private:
  enum class TaskState { kWaiting, kRunning, kParked, kProducing };
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
  };
  struct TaskRecord {
    uint64_t id = 0;
    int32_t partition = 0;
    int64_t offset = 0;
    TaskState state = TaskState::kWaiting;
    int pending_acks = 0;
    KeyDispatcher::LaneRef lane;  // the lane of task.key, while it holds one
    Clock::time_point started;
    std::unique_ptr<TaskBody> body;  // null once produced (kProducing)
  };
  struct OutputTarget {
    const Output* output;
    const std::string* topic;
    const std::string* stage;  // empty string: <pipeline>.done
  };
  struct RetryDue {
    Clock::time_point at;
    uint64_t id;
    bool operator>(const RetryDue& other) const { return at > other.at; }
  };

  // worker.cc
  Status create_clients();
  Status make_producer();
  Status check_topics();
  void run_once(const std::atomic<bool>& stop);
  void dispatch_and_complete_phase();
  int poll_wait_ms() const;
  Clock::time_point stop_deadline();
  bool give_up_waiting();
  Status shutdown();
  void drain_until(Clock::time_point deadline,
                   const std::function<bool(const TaskRecord&)>& counts);

  // worker_intake.cc
  void consume_phase(int wait_ms);
  void take_in(const rd_kafka_message_t* message);
  void intake(const rd_kafka_message_t* message);
  void dispatch_phase();
  void start_task(TaskRecord& record);
  void run_sync_task(TaskRecord& record);

  // worker_outcomes.cc
  void completion_phase();
  void handle_outcome(TaskRecord& record, Outcome& outcome);
  void produce_outputs(TaskRecord& record, std::vector<Output>& outputs);
  void retry_later(TaskRecord& record, const Outcome& outcome);
  void dead_letter(TaskRecord& record, const Outcome& outcome);
  void send_dead_letter(TaskRecord& record);
  v1::Envelope& input_envelope(TaskRecord& record);
  void release_body(TaskRecord& record);
  void erase_record(TaskRecord& record);
  struct OutgoingRecord {
    const std::string& topic;
    std::string_view key, job_id, task_id;  // the last two mirrored as headers
  };
  bool produce(const std::string& topic, const v1::Envelope& envelope, uint64_t record_id);
  bool produce(const OutgoingRecord& out, uint64_t record_id);
  void delivery_phase(int wait_ms);
  void record_acked(TaskRecord& record);
  void observe(TaskResult result, const TaskRecord& record);

  // worker_partitions.cc
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void load_handed_over_offsets(const rd_kafka_topic_partition_list_t* partitions);
  void skip_handed_over(const rd_kafka_topic_partition_list_t* committed);
  void revoke(rd_kafka_topic_partition_list_t* partitions);
  void drop_records(const std::function<bool(const TaskRecord&)>& which);
  Status recover_phase();
  void rewind_to_committed();
  void flow_control_phase();
  void set_paused(bool paused);

  // worker_commit.cc
  void commit_phase(bool sync);

  WorkerOptions options_;
  std::unique_ptr<Stage> stage_;
  SyncStage* sync_stage_;  // stage_, when it is synchronous: called directly
  Outcome sync_outcome_;   // reused by every synchronous task
  WorkerObserver* observer_;
  const topics::StageSpec* spec_;  // points into options_.spec
  std::string input_topic_;
  std::string dlq_topic_;
  std::map<std::string, std::string> next_topics_;  // stage name -> topic
  std::vector<std::string> default_output_topics_;

  KafkaHandle consumer_;
  KafkaQueue consumer_queue_;
  KafkaHandle producer_;
  // The producer's main queue, where delivery reports wait: its event
  // callback wakes the consumer poll, so acks need no polling interval.
  // Declared after producer_, so it is released first.
  KafkaQueue producer_queue_;
  CompletionQueue completions_;
  std::vector<Completed> completed_scratch_;
  std::string serialize_scratch_;  // the record value being produced
  std::string output_id_scratch_;  // the task id of the output being produced
  std::vector<OutputTarget> targets_scratch_;
  OutputAddress address_scratch_;  // pipeline and source set once

  OffsetTracker tracker_;
  KeyDispatcher dispatcher_;
  RecordSlab<TaskRecord> records_;
  std::vector<std::unique_ptr<TaskBody>> spare_bodies_;
  size_t body_bytes_ = 0;  // input bytes held by the bodies in use
  std::priority_queue<RetryDue, std::vector<RetryDue>, std::greater<>> retries_;
  std::vector<int32_t> assignment_;

  const std::atomic<bool>* stop_ = nullptr;  // run()'s
  bool paused_ = false;
  bool stopping_ = false;
  bool revoking_ = false;
  bool rewind_needed_ = false;
  bool producer_fatal_ = false;
  Status fatal_;
  Clock::time_point next_commit_;
  // Unix time minus steady time, taken once per loop iteration, so a task's
  // end-to-end latency needs no second clock read per task.
  Clock::duration unix_minus_steady_{};
  // options_.shutdown_deadline after the stop was first seen (in a wait, or
  // by shutdown()); max() until then.
  Clock::time_point shutdown_deadline_at_ = Clock::time_point::max();
  std::chrono::milliseconds rewind_backoff_{0};
};

}  // namespace sluice::engine
