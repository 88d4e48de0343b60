// OutputSink: the one owner of everything a worker writes to Kafka.
//
// Outputs, retry records and dead letters all go through produce(); input
// offsets go through commit(), or (exactly_once) commit_transaction(), which
// commits them with every record produced since the last one. The sink checks each
// record's size before producing it, never blocks on a full producer queue
// (records wait in a bounded backlog; congested() tells the worker to stop
// dispatching), classifies every produce and delivery error in one place,
// and rebuilds a producer that hit a fatal error. Single-threaded: the
// worker loop owns it, and its events fire from poll() and wait_for_commits().
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_handles.h"
#include "partition_offsets.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice::engine {

// What became of a record the broker will never take as it is.
enum class SendFailure {
  kTooLarge,       // over max_record_bytes, or the broker's limit: dead-letter the task
  kInvalidRecord,  // refused by the broker for its content: dead-letter the task
  kRetriable,      // not delivered (timeout, outage): rewind its input
  kFatal,          // the producer is unusable: rebuild it and rewind every input
};

struct RecordHeader {
  std::string name;
  std::string value;
};

struct OutgoingRecord {
  const std::string& topic;
  std::string_view key;
  std::string_view value;
  std::string_view job_id, task_id;  // mirrored as headers
  std::span<const RecordHeader> headers = {};  // more headers (a dead letter's)
  // A changelog record names its partition (the input partition whose
  // state it holds) and may be a tombstone (no value: a deleted key).
  int32_t partition = RD_KAFKA_PARTITION_UA;
  bool tombstone = false;
};

// What became of a transaction the sink was asked to end.
enum class TransactionEnd {
  kCommitted,
  kAborted,  // none of its records or offsets will ever be visible
  kRebuild,  // fatal, fenced, or not resolved in time: the producer must be
             // rebuilt, and whether it committed is known only from the broker
};

struct CommitRequest {
  const std::string* topic;
  int32_t partition;
  int64_t position;
  std::vector<OffsetRange> done_above;  // carried in the commit's metadata
  int64_t circuit_until_unix_ms = 0;      // so is this (done_offsets.h)
};

class OutputSink {
 public:
  using Clock = std::chrono::steady_clock;
  struct Events {
    std::function<void(uint64_t record_id)> acked;
    std::function<void(uint64_t record_id, SendFailure, const std::string& why)> failed;
    // One per partition of each commit, ok or not.
    std::function<void(const std::string& topic, int32_t partition, int64_t position,
                       bool ok)> committed;
    // True once the worker is stopping: a wait that may last long (a
    // rebuilt producer's init_transactions) gives up, so that the stop is
    // not held up past its deadline. Empty: never.
    std::function<bool()> stopping;
  };

  // A non-empty `transactional_id` makes the producer transactional
  // (exactly_once): records go into a transaction begun at the first
  // produce(), ended by commit_transaction() or abort_transaction().
  OutputSink(std::string stage, KafkaOptions kafka, size_t max_record_bytes, Events events,
             std::string transactional_id = {});
  ~OutputSink();
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;

  // Builds the producer; transactional, reaches the cluster (an unreachable
  // broker fails here, within the connect timeout) and initializes its
  // transactions, fencing an earlier producer of the same id. Delivery
  // reports wake `wake` (the consumer's queue), so the worker's blocking
  // poll ends when acks arrive. `consumer` commits.
  Status open(rd_kafka_t* consumer, rd_kafka_queue_t* wake);
  rd_kafka_t* producer() const { return producer_.get(); }

  // Queues one record (copied). A failure the sink knows at once (too large,
  // a fatal producer) fires Events::failed before this returns.
  void produce(const OutgoingRecord& record, uint64_t record_id);
  // Serves delivery reports (waiting up to wait_ms), then the backlog.
  void poll(int wait_ms);
  // True while records wait for room in the producer's queue, or the queue is
  // nearly full: the worker starts no task until it drains.
  bool congested() const;
  // Records handed to the sink and not yet acknowledged or failed.
  size_t awaiting_acks() const { return awaiting_acks_; }
  size_t max_record_bytes() const { return max_record_bytes_; }
  // The size produce() checks against max_record_bytes(): key, value, headers
  // and framing.
  static size_t record_bytes(const OutgoingRecord& record);

  // After a kFatal failure: purges and replaces the producer. Records of the
  // old one never report again.
  bool needs_rebuild() const { return needs_rebuild_; }
  Status rebuild();
  // Before the consumer goes: acks no longer wake its queue, commits end.
  void detach_consumer();
  void close();

  // Commits asynchronously; the result fires Events::committed. Not for a
  // transactional sink: its offsets go in the transaction.
  void commit(const std::vector<CommitRequest>& positions);

  // exactly_once (output_sink_transactions.cc). Every wait ends at `deadline`.
  bool transactional() const { return !transactional_id_.empty(); }
  bool in_transaction() const { return in_transaction_; }
  // Records produced in the open transaction, and how long it has been open.
  size_t transaction_records() const { return transaction_records_; }
  Clock::duration transaction_age() const {
    return in_transaction_ ? Clock::now() - transaction_began_ : Clock::duration::zero();
  }
  // Serves delivery reports and the backlog until every record handed over
  // (while held: sent) is acknowledged or failed; false at the deadline.
  bool flush(Clock::time_point deadline);
  // While held, produce() keeps records back (in the backlog, in order):
  // the open transaction's records are acknowledged while the worker goes on,
  // and what it produces meanwhile goes into the next one.
  bool holding() const { return holding_; }
  void hold(bool on) {
    holding_ = on;
    // At once: a backlog left for the next poll reads as congestion, and
    // flow control would pause every partition (dropping what librdkafka
    // prefetched) each time a transaction commits: measured, a third of the
    // throughput (transactions_benchmark, 1 stage).
    if (!on) drain_backlog();
  }
  // Records handed to librdkafka and not yet acknowledged or failed.
  size_t in_flight() const { return awaiting_acks_ - backlog_.size(); }
  // Adds `positions` (with their metadata) through the consumer's group
  // metadata, so a member that lost its partitions cannot commit them
  // (KIP-447), then commits. An abortable error aborts.
  TransactionEnd commit_transaction(const std::vector<CommitRequest>& positions,
                                    Clock::time_point deadline);
  TransactionEnd abort_transaction(Clock::time_point deadline);
  // Serves commit results until none is outstanding or `deadline` passes;
  // false if some remain. Safe inside a rebalance callback.
  bool wait_for_commits(Clock::time_point deadline);
  // Serves whatever commit results arrived, without waiting.
  void poll_commits() {
    if (commit_queue_) (void)rd_kafka_queue_poll_callback(commit_queue_.get(), 0);
  }

  // librdkafka trampolines.
  void on_delivery(const rd_kafka_message_t* message);
  void on_commit(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets);
  void on_error(int err, const char* reason);

 private:
  struct Waiting {  // a record refused with QUEUE_FULL, retried from poll()
    std::string topic, key, value, job_id, task_id;
    std::vector<RecordHeader> headers;
    int32_t partition;
    bool tombstone;
    uint64_t record_id;
  };
  Status make_producer(bool reach_first);
  Status init_transactions();
  // Begins a transaction unless one is open; false (and needs_rebuild()) if
  // the producer cannot.
  bool ensure_transaction();
  KafkaError call_until(Clock::time_point deadline,
                        const std::function<rd_kafka_error_t*(int timeout_ms)>& call);
  TransactionEnd give_up(const std::string& why);
  // QUEUE_FULL is returned as is (the caller keeps the record waiting).
  rd_kafka_resp_err_t send(const OutgoingRecord& record, uint64_t record_id);
  rd_kafka_resp_err_t send_inline(const OutgoingRecord& record, uint64_t record_id);
  static void* value_of(const OutgoingRecord& record);
  void fail(uint64_t record_id, SendFailure failure, const std::string& why);
  void drain_backlog();

  std::string stage_;
  KafkaOptions kafka_;
  size_t max_record_bytes_;
  size_t queue_high_mark_;
  Events events_;
  rd_kafka_t* consumer_ = nullptr;
  rd_kafka_queue_t* wake_ = nullptr;
  KafkaHandle producer_;
  KafkaQueue producer_queue_;  // its main queue; released before producer_
  KafkaQueue commit_queue_;    // commit results, served by poll_commits()
  std::deque<Waiting> backlog_;
  size_t awaiting_acks_ = 0;
  size_t commits_in_flight_ = 0;
  bool needs_rebuild_ = false;
  std::string transactional_id_;
  bool in_transaction_ = false;
  // Inside abort_transaction(): its flush serves the delivery reports of the
  // records it purges (and of those still in flight), which belong to the
  // aborted transaction, not to the next one.
  bool aborting_ = false;
  bool holding_ = false;
  size_t transaction_records_ = 0;
  Clock::time_point transaction_began_{};
};

// The classification of a produce or delivery error (exposed for tests).
SendFailure classify_send_error(rd_kafka_resp_err_t err);

// The offsets of `positions`, each with its done-offsets metadata.
PartitionList commit_list(const std::vector<CommitRequest>& positions);

}  // namespace sluice::engine
