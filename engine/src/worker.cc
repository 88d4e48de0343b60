#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "kafka_client.h"
#include "kafka_errors.h"
#include "topic_metadata.h"
#include "sluice/topics/names.h"
#include "worker_impl.h"

namespace sluice {

Result<std::unique_ptr<Worker>> Worker::create(WorkerOptions options,
                                               std::unique_ptr<Stage> stage) {
  auto worker =
      std::make_unique<engine::WorkerImpl>(std::move(options), std::move(stage));
  if (Status s = worker->start(); !s.is_ok()) return s;
  return std::unique_ptr<Worker>(std::move(worker));
}

namespace engine {
namespace {

WorkerObserver& null_observer() {
  static WorkerObserver observer;
  return observer;
}

// librdkafka calls these from the worker thread's poll calls. Nothing may
// unwind through librdkafka: a throw here is a bug, so we stop hard.
void rebalance_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions,
                          void* opaque) noexcept {
  static_cast<WorkerImpl*>(opaque)->on_rebalance(err, partitions);
}
void commit_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* offsets,
                       void* opaque) noexcept {
  static_cast<WorkerImpl*>(opaque)->on_commit(err, offsets);
}
void delivery_trampoline(rd_kafka_t*, const rd_kafka_message_t* message,
                         void* opaque) noexcept {
  static_cast<WorkerImpl*>(opaque)->on_delivery(message);
}
void error_trampoline(rd_kafka_t*, int err, const char* reason,
                      void* opaque) noexcept {
  static_cast<WorkerImpl*>(opaque)->on_producer_error(err, reason);
}
// From a librdkafka thread, when a delivery report lands in an empty queue:
// ends the worker's consumer poll (or the next one), which then serves it.
void deliveries_waiting_trampoline(rd_kafka_t*, void* consumer_queue) noexcept {
  rd_kafka_queue_yield(static_cast<rd_kafka_queue_t*>(consumer_queue));
}

}  // namespace

WorkerImpl::WorkerImpl(WorkerOptions options, std::unique_ptr<Stage> stage)
    : options_(std::move(options)),
      stage_(std::move(stage)),
      sync_stage_(dynamic_cast<SyncStage*>(stage_.get())),
      observer_(options_.observer ? options_.observer : &null_observer()),
      spec_(options_.spec.find_stage(options_.stage)),
      dispatcher_(spec_ ? static_cast<size_t>(spec_->concurrency) : 1) {}

WorkerImpl::~WorkerImpl() {
  // Fallback only: run() closes everything in order. The stage goes first so
  // no thread of it can still push into completions_.
  if (stage_) (void)stage_->close();
}

Status WorkerImpl::start() {
  if (spec_ == nullptr) {
    return usage_error(options_.spec.file + ": no stage named '" +
                       options_.stage + "'");
  }
  const std::string& pipeline = options_.spec.pipeline;
  input_topic_ = topics::input_topic(options_.spec, *spec_);
  dlq_topic_ = topics::dlq_topic(pipeline, spec_->name);
  for (const std::string& next : spec_->next) {
    next_topics_[next] = topics::stage_topic(pipeline, next);
  }
  default_output_topics_ = topics::output_topics(options_.spec, *spec_);
  address_scratch_ = {pipeline, spec_->name, ""};
  if (Status s = create_clients(); !s.is_ok()) return s;
  if (Status s = check_topics(); !s.is_ok()) return s;
  if (Status s = stage_->init({pipeline, *spec_}); !s.is_ok()) {
    return Status(s.code(), "stage " + spec_->name + ": " + s.message());
  }
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), input_topic_.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  return kafka_status(rd_kafka_subscribe(consumer_.get(), topics.get()),
                      "subscribe to " + input_topic_);
}

Status WorkerImpl::create_clients() {
  ClientSpec consumer =
      consumer_spec(topics::group_id(options_.spec.pipeline, spec_->name));
  consumer.customize = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_trampoline);
    rd_kafka_conf_set_offset_commit_cb(conf, commit_trampoline);
  };
  auto made_consumer = make_client(options_.kafka, std::move(consumer));
  if (!made_consumer.is_ok()) return made_consumer.status();
  consumer_ = std::move(made_consumer).value();
  rd_kafka_poll_set_consumer(consumer_.get());
  consumer_queue_.reset(rd_kafka_queue_get_consumer(consumer_.get()));

  if (Status s = make_producer(); !s.is_ok()) return s;
  return check_reachable(producer_.get(), options_.kafka);
}

// Also called to replace a producer that hit a fatal error.
Status WorkerImpl::make_producer() {
  ClientSpec producer = producer_spec();
  producer.customize = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_trampoline);
    rd_kafka_conf_set_error_cb(conf, error_trampoline);
  };
  auto made = make_client(options_.kafka, std::move(producer));
  if (!made.is_ok()) return made.status();
  producer_queue_.reset();  // before the producer it belongs to goes
  producer_ = std::move(made).value();
  producer_queue_.reset(rd_kafka_queue_get_main(producer_.get()));
  rd_kafka_queue_cb_event_enable(producer_queue_.get(), deliveries_waiting_trampoline,
                                 consumer_queue_.get());
  return Status::ok();
}

// One all-topics metadata request (see topic_metadata.h): asking for the
// topics by name could make a broker auto-create them with its defaults.
Status WorkerImpl::check_topics() {
  auto existing = describe_topics(producer_.get(), options_.kafka);
  if (!existing.is_ok()) return existing.status();
  std::vector<std::string> needed = {input_topic_, dlq_topic_};
  needed.insert(needed.end(), default_output_topics_.begin(), default_output_topics_.end());
  for (const std::string& topic : needed) {
    if (existing->count(topic) == 0) {
      return not_found("topic " + topic + " does not exist on " + options_.kafka.bootstrap +
                       "; create it with `sluice topics apply -f " + options_.spec.file + "`");
    }
  }
  return Status::ok();
}

Status WorkerImpl::run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  spdlog::info("stage {}: consuming {} as group {}", spec_->name, input_topic_,
               topics::group_id(options_.spec.pipeline, spec_->name));
  next_commit_ = Clock::now() + options_.commit_interval;
  completions_.set_wake_hook([queue = consumer_queue_.get()] { rd_kafka_queue_yield(queue); },
                             std::this_thread::get_id());
  while (!stop.load(std::memory_order_relaxed) && fatal_.is_ok()) {
    run_once(stop);
  }
  Status closed = shutdown();
  return fatal_.is_ok() ? closed : fatal_;
}

void WorkerImpl::run_once(const std::atomic<bool>& stop) {
  unix_minus_steady_ = std::chrono::system_clock::now().time_since_epoch() -
                       Clock::now().time_since_epoch();
  consume_phase(poll_wait_ms());
  dispatch_and_complete_phase();
  delivery_phase(0);
  if (Status s = recover_phase(); !s.is_ok()) fatal_ = s;
  if (Clock::now() >= next_commit_) commit_phase(false);
  flow_control_phase();
}

// An asynchronous stage may finish a task before process() returns, but its
// slot is only freed when completion_phase() handles the outcome: one
// dispatch pass per loop iteration would start at most `concurrency` tasks
// per iteration, however fast they are. So alternate the two while that
// frees slots, a bounded number of rounds, so that delivery reports and
// commits still get their turn. (Synchronous stages are handled in place.)
void WorkerImpl::dispatch_and_complete_phase() {
  constexpr int kMaxRounds = 16;
  for (int round = 0; round < kMaxRounds; ++round) {
    dispatch_phase();
    completion_phase();
    if (dispatcher_.waiting() == 0 ||
        dispatcher_.in_flight() >= dispatcher_.max_in_flight()) {
      return;
    }
  }
}

// How long consume_phase may block: not at all when work is ready, until
// the next retry is due, else 100 ms. Whatever arrives meanwhile ends the
// wait early: a record, a stage completion (CompletionQueue's wake hook), a
// delivery report (the producer queue's event callback).
int WorkerImpl::poll_wait_ms() const {
  if (!completions_.empty()) return 0;
  if (dispatcher_.waiting() > 0 && dispatcher_.in_flight() < dispatcher_.max_in_flight()) {
    return 0;
  }
  int wait = 100;
  if (!retries_.empty()) {
    auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
        retries_.top().at - Clock::now());
    wait = std::clamp<int>(static_cast<int>(until.count()), 0, wait);
  }
  return wait;
}

// The shutdown deadline, counted from the first time the stop is seen: a
// wait inside a loop iteration (a full producer queue, a rewind backoff) may
// see it before shutdown() does, and the deadline is not restarted there.
Clock::time_point WorkerImpl::stop_deadline() {
  if (shutdown_deadline_at_ == Clock::time_point::max()) {
    shutdown_deadline_at_ = Clock::now() + options_.shutdown_deadline;
  }
  return shutdown_deadline_at_;
}

// Whether such a wait must end now: a stop was asked for and the shutdown
// deadline passed. Otherwise a broker that stopped answering would hold a
// SIGTERM for up to message.timeout.ms; before the deadline, a full queue is
// ordinary backpressure and drains.
bool WorkerImpl::give_up_waiting() {
  bool stop_asked = stopping_ || (stop_ != nullptr && stop_->load(std::memory_order_relaxed));
  return stop_asked && Clock::now() >= stop_deadline();
}

// Shutdown order: stop fetching, finish the running tasks within the
// deadline, wait for delivery, commit (with the offsets done above each
// position, so a restart skips them), leave the group, close producer, close
// stage. Tasks not yet started are dropped: uncommitted, they run after the
// restart.
Status WorkerImpl::shutdown() {
  stopping_ = true;
  auto deadline = stop_deadline();
  spdlog::info("stage {}: shutting down ({} tasks running)", spec_->name,
               dispatcher_.in_flight());
  set_paused(true);
  drain_until(deadline, [](const TaskRecord&) { return true; });
  if (!records_.empty()) {
    spdlog::warn("stage {}: {} tasks unfinished at the shutdown deadline; they were not "
                 "committed and will run again", spec_->name, records_.size());
  }
  commit_phase(true);
  Status status = kafka_status(rd_kafka_consumer_close(consumer_.get()),
                               "leave group");  // the revoke callback commits too
  rd_kafka_queue_cb_event_enable(producer_queue_.get(), nullptr, nullptr);
  consumer_queue_.reset();
  auto left = std::max(Clock::duration::zero(), deadline - Clock::now());
  int left_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
  if (rd_kafka_flush(producer_.get(), left_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("stage {}: {} records undelivered at shutdown; their inputs "
                 "were not committed and will be processed again",
                 spec_->name, rd_kafka_outq_len(producer_.get()));
  }
  Status stage_closed = stage_->close();
  stage_.reset();
  consumer_.reset();
  producer_queue_.reset();
  producer_.reset();
  spdlog::info("stage {}: stopped", spec_->name);
  return status.is_ok() ? stage_closed : status;
}

// Runs the selected records' running tasks to their end (outcomes,
// deliveries) until none is left or the deadline passes. Tasks waiting to
// start or to be retried are dropped uncommitted: whoever reads the
// partition next runs them.
void WorkerImpl::drain_until(Clock::time_point deadline,
                             const std::function<bool(const TaskRecord&)>& counts) {
  while (true) {
    drop_records([&](const TaskRecord& r) {
      return counts(r) && (r.state == TaskState::kWaiting || r.state == TaskState::kParked);
    });
    // A record failed to be produced: the selected records cannot all be
    // acked, so waiting for them would only run into the deadline. Dropped
    // uncommitted, they run again.
    if (rewind_needed_) drop_records(counts);
    completion_phase();
    delivery_phase(0);
    if (!records_.any_of(counts) || Clock::now() >= deadline) return;
    delivery_phase(5);
  }
}

}  // namespace engine
}  // namespace sluice
