#include "output_sink.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>

#include "done_offsets.h"
#include "kafka_client.h"
#include "kafka_errors.h"

namespace sluice::engine {
namespace {

void delivery_trampoline(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) noexcept {
  static_cast<OutputSink*>(opaque)->on_delivery(message);
}
void error_trampoline(rd_kafka_t*, int err, const char* reason, void* opaque) noexcept {
  static_cast<OutputSink*>(opaque)->on_error(err, reason);
}
void commit_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* offsets, void* opaque) noexcept {
  static_cast<OutputSink*>(opaque)->on_commit(err, offsets);
}
// From a librdkafka thread, when a delivery report lands in an empty queue:
// ends the worker's consumer poll (or the next one), which then serves it.
void deliveries_waiting_trampoline(rd_kafka_t*, void* wake) noexcept {
  rd_kafka_queue_yield(static_cast<rd_kafka_queue_t*>(wake));
}

// The list frees element metadata with free(): hand it a malloc'd copy.
void set_metadata(rd_kafka_topic_partition_t* element, const std::string& metadata) {
  if (metadata.empty()) return;
  element->metadata = std::malloc(metadata.size());
  if (element->metadata == nullptr) return;  // the offsets above are rerun
  std::memcpy(element->metadata, metadata.data(), metadata.size());
  element->metadata_size = metadata.size();
}

size_t property_or(const KafkaOptions& kafka, const std::string& name, size_t fallback) {
  auto it = kafka.properties.find(name);
  if (it == kafka.properties.end()) return fallback;
  char* end = nullptr;
  unsigned long long value = std::strtoull(it->second.c_str(), &end, 10);
  return end != nullptr && *end == '\0' && value > 0 ? static_cast<size_t>(value) : fallback;
}

// The overhead of a record beyond its key and value: headers, batch framing.
constexpr size_t kRecordOverheadBytes = 512;

}  // namespace

SendFailure classify_send_error(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return SendFailure::kTooLarge;
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
      return SendFailure::kInvalidRecord;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED:
      return SendFailure::kFatal;
    default:
      return SendFailure::kRetriable;
  }
}

OutputSink::OutputSink(std::string stage, KafkaOptions kafka, size_t max_record_bytes,
                       Events events, std::string transactional_id)
    : stage_(std::move(stage)),
      kafka_(std::move(kafka)),
      // librdkafka refuses records above its message.max.bytes at produce time.
      max_record_bytes_(std::min(max_record_bytes,
                                 property_or(kafka_, "message.max.bytes", 1000000))),
      // Dispatch stops before librdkafka's queue is full, so produce() rarely
      // meets QUEUE_FULL and the backlog stays short.
      queue_high_mark_(property_or(kafka_, "queue.buffering.max.messages", 100000) * 3 / 4),
      events_(std::move(events)),
      transactional_id_(std::move(transactional_id)) {}

OutputSink::~OutputSink() { close(); }

Status OutputSink::open(rd_kafka_t* consumer, rd_kafka_queue_t* wake) {
  consumer_ = consumer;
  wake_ = wake;
  commit_queue_.reset(rd_kafka_queue_new(consumer));
  return make_producer(true);
}

Status OutputSink::make_producer(bool reach_first) {
  ClientSpec spec = producer_spec(transactional_id_);
  spec.customize = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_trampoline);
    rd_kafka_conf_set_error_cb(conf, error_trampoline);
  };
  auto made = make_client(kafka_, std::move(spec));
  if (!made.is_ok()) return made.status();
  producer_queue_.reset();  // before the producer it belongs to goes
  producer_ = std::move(made).value();
  producer_queue_.reset(rd_kafka_queue_get_main(producer_.get()));
  if (wake_ != nullptr) {
    rd_kafka_queue_cb_event_enable(producer_queue_.get(), deliveries_waiting_trampoline, wake_);
  }
  in_transaction_ = false;
  transaction_records_ = 0;
  // Transactions start with the cluster reached (one metadata request,
  // bounded by connect_timeout): an unreachable broker fails in one line,
  // and init_transactions finds its coordinator's connection up. Started
  // cold, it found it down in about 1 start of 4 and waited out librdkafka's
  // 500 ms retry of InitProducerId (transactions_benchmark: first output
  // 0.74 s against 0.27 s). Not on a rebuild: that waits for the broker in
  // init_transactions' slices, which notice a stop.
  if (reach_first && transactional()) {
    if (Status s = check_reachable(producer_.get(), kafka_); !s.is_ok()) {
      needs_rebuild_ = true;
      return s;
    }
  }
  Status initialized = transactional() ? init_transactions() : Status::ok();
  needs_rebuild_ = !initialized.is_ok();
  return initialized;
}

Status OutputSink::rebuild() {
  spdlog::warn("stage {}: rebuilding the producer", stage_);
  rd_kafka_queue_cb_event_enable(producer_queue_.get(), nullptr, nullptr);
  rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  producer_queue_.reset();
  producer_.reset();
  backlog_.clear();
  awaiting_acks_ = 0;
  return make_producer(false);
}

void OutputSink::detach_consumer() {
  if (producer_queue_) rd_kafka_queue_cb_event_enable(producer_queue_.get(), nullptr, nullptr);
  wake_ = nullptr;
  commit_queue_.reset();
  consumer_ = nullptr;
  commits_in_flight_ = 0;
}

void OutputSink::close() {
  detach_consumer();
  // An open transaction would hold back read_committed readers of its
  // partitions until the broker times it out.
  if (in_transaction_ && !needs_rebuild_) {
    (void)abort_transaction(Clock::now() + std::chrono::seconds(5));
  }
  // What is still unacknowledged was not committed and runs again: purged, so
  // that destroying the producer does not wait for a broker that is gone.
  if (producer_) rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  producer_queue_.reset();
  producer_.reset();
}

// A tombstone's value is null, not empty: compaction removes the key.
void* OutputSink::value_of(const OutgoingRecord& record) {
  return record.tombstone ? nullptr : const_cast<char*>(record.value.data());
}

size_t OutputSink::record_bytes(const OutgoingRecord& record) {
  size_t headers = 0;
  for (const RecordHeader& h : record.headers) headers += h.name.size() + h.value.size();
  return record.key.size() + record.value.size() + record.job_id.size() + record.task_id.size() +
         headers + kRecordOverheadBytes;
}

void OutputSink::produce(const OutgoingRecord& record, uint64_t record_id) {
  ++awaiting_acks_;
  size_t size = record_bytes(record);
  if (size > max_record_bytes_) {
    return fail(record_id, SendFailure::kTooLarge,
                "record of " + std::to_string(size) + " bytes for " + record.topic +
                    " exceeds max_record_bytes " + std::to_string(max_record_bytes_));
  }
  if (needs_rebuild_) return fail(record_id, SendFailure::kFatal, "the producer is being rebuilt");
  // Behind a backlog (or a hold), a record waits its turn: per-partition order holds.
  rd_kafka_resp_err_t err = backlog_.empty() && !holding_ ? send(record, record_id)
                                                          : RD_KAFKA_RESP_ERR__QUEUE_FULL;
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    backlog_.push_back({record.topic, std::string(record.key), std::string(record.value),
                        std::string(record.job_id), std::string(record.task_id),
                        {record.headers.begin(), record.headers.end()}, record.partition,
                        record.tombstone, record_id});
  }
}

// The common case (outputs: two id headers) passes them inline; a record
// with more headers builds a header list, which librdkafka owns once the
// produce succeeds.
rd_kafka_resp_err_t OutputSink::send(const OutgoingRecord& record, uint64_t record_id) {
  // exactly_once: a record goes into the open transaction, or begins one.
  if (transactional()) {
    if (!ensure_transaction()) {
      fail(record_id, SendFailure::kFatal, "the producer is being rebuilt");
      return RD_KAFKA_RESP_ERR__FATAL;
    }
    ++transaction_records_;
  }
  rd_kafka_resp_err_t err;
  if (record.headers.empty()) {
    err = send_inline(record, record_id);
  } else {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(2 + record.headers.size());
    rd_kafka_header_add(headers, "sluice-job-id", -1, record.job_id.data(),
                        static_cast<ssize_t>(record.job_id.size()));
    rd_kafka_header_add(headers, "sluice-task-id", -1, record.task_id.data(),
                        static_cast<ssize_t>(record.task_id.size()));
    for (const RecordHeader& h : record.headers) {
      rd_kafka_header_add(headers, h.name.c_str(), -1, h.value.data(),
                          static_cast<ssize_t>(h.value.size()));
    }
    err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
        RD_KAFKA_V_PARTITION(record.partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
        RD_KAFKA_V_VALUE(value_of(record), record.value.size()),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(record_id)),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(headers);
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return err;
  SendFailure failure = classify_send_error(err);
  if (failure == SendFailure::kFatal) needs_rebuild_ = true;
  fail(record_id, failure, kafka_status(err, "produce to " + record.topic).message());
  return err;
}

rd_kafka_resp_err_t OutputSink::send_inline(const OutgoingRecord& record, uint64_t record_id) {
  return rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
      RD_KAFKA_V_PARTITION(record.partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
      RD_KAFKA_V_VALUE(value_of(record), record.value.size()),
      RD_KAFKA_V_HEADER("sluice-job-id", record.job_id.data(),
                        static_cast<ssize_t>(record.job_id.size())),
      RD_KAFKA_V_HEADER("sluice-task-id", record.task_id.data(),
                        static_cast<ssize_t>(record.task_id.size())),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(record_id)), RD_KAFKA_V_END);
}

void OutputSink::fail(uint64_t record_id, SendFailure failure, const std::string& why) {
  --awaiting_acks_;
  events_.failed(record_id, failure, why);
}

void OutputSink::poll(int wait_ms) {
  rd_kafka_poll(producer_.get(), backlog_.empty() ? wait_ms : 0);
  drain_backlog();
}

void OutputSink::drain_backlog() {
  while (!backlog_.empty() && !needs_rebuild_ && !holding_) {
    const Waiting& w = backlog_.front();
    rd_kafka_resp_err_t err = send(
        {w.topic, w.key, w.value, w.job_id, w.task_id, w.headers, w.partition, w.tombstone},
        w.record_id);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return;
    backlog_.pop_front();
  }
}

bool OutputSink::congested() const {
  // While held, records of tasks finishing meanwhile wait, up to a bound.
  size_t waiting_allowed = holding_ ? queue_high_mark_ / 8 : 0;
  return backlog_.size() > waiting_allowed || needs_rebuild_ ||
         static_cast<size_t>(rd_kafka_outq_len(producer_.get())) >= queue_high_mark_;
}

void OutputSink::on_delivery(const rd_kafka_message_t* message) {
  auto id = reinterpret_cast<uint64_t>(message->_private);
  // Reported to no one: every task of an aborted transaction runs again (the
  // caller rewinds every partition). Reported as failures, they would doom
  // the next transaction, whose abort purges more records: a loop, seen after
  // a broker's bounce (test_chaos_brokers).
  if (aborting_) {
    --awaiting_acks_;
    return;
  }
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    --awaiting_acks_;
    events_.acked(id);
    return;
  }
  SendFailure failure = classify_send_error(message->err);
  if (failure == SendFailure::kFatal) needs_rebuild_ = true;
  fail(id, failure,
       kafka_status(message->err, std::string("delivery to ") + rd_kafka_topic_name(message->rkt))
           .message());
}

void OutputSink::on_error(int err, const char* reason) {
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code != RD_KAFKA_RESP_ERR__FATAL) {
    spdlog::warn("stage {}: producer: {}", stage_, reason);
    return;
  }
  char detail[512];
  rd_kafka_fatal_error(producer_.get(), detail, sizeof(detail));
  spdlog::error("stage {}: producer fatal error: {}", stage_, detail);
  needs_rebuild_ = true;
}

PartitionList commit_list(const std::vector<CommitRequest>& positions) {
  PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
  for (const CommitRequest& position : positions) {
    rd_kafka_topic_partition_t* element = rd_kafka_topic_partition_list_add(
        offsets.get(), position.topic->c_str(), position.partition);
    element->offset = position.position;
    set_metadata(element, encode_done_offsets(position.position, position.done_above,
                                              kMaxDoneOffsetsBytes,
                                              position.circuit_until_unix_ms));
  }
  return offsets;
}

void OutputSink::commit(const std::vector<CommitRequest>& positions) {
  if (positions.empty() || consumer_ == nullptr) return;
  PartitionList offsets = commit_list(positions);
  ++commits_in_flight_;
  rd_kafka_resp_err_t err = rd_kafka_commit_queue(consumer_, offsets.get(), commit_queue_.get(),
                                                  commit_trampoline, this);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) on_commit(err, offsets.get());
}

void OutputSink::on_commit(rd_kafka_resp_err_t err,
                           const rd_kafka_topic_partition_list_t* offsets) {
  --commits_in_flight_;
  bool all_ok = err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET;
  if (!all_ok) {
    spdlog::warn("stage {}: {}", stage_, kafka_status(err, "commit offsets").message());
  }
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    const rd_kafka_topic_partition_t& element = offsets->elems[i];
    bool ok = all_ok && element.err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (all_ok && !ok) {
      spdlog::warn("stage {}: {}", stage_,
                   kafka_status(element.err, "commit offset of " + std::string(element.topic) +
                                                 "[" + std::to_string(element.partition) + "]")
                       .message());
    }
    events_.committed(element.topic, element.partition, element.offset, ok);
  }
}

bool OutputSink::wait_for_commits(Clock::time_point deadline) {
  while (commits_in_flight_ > 0 && commit_queue_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    (void)rd_kafka_queue_poll_callback(commit_queue_.get(),
                                       static_cast<int>(std::min<int64_t>(left.count(), 100)));
  }
  return true;
}

}  // namespace sluice::engine
