#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "kafka_client.h"
#include "kafka_errors.h"
#include "sluice/topics/names.h"
#include "topic_metadata.h"
#include "wait_millis.h"
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

// librdkafka calls this from the worker thread's poll calls. Nothing may
// unwind through librdkafka: a throw here is a bug, so we stop hard.
void rebalance_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions,
                          void* opaque) noexcept {
  static_cast<WorkerImpl*>(opaque)->on_rebalance(err, partitions);
}

}  // namespace

WorkerImpl::WorkerImpl(WorkerOptions options, std::unique_ptr<Stage> stage)
    : options_(std::move(options)),
      stage_(std::move(stage)),
      sync_stage_(dynamic_cast<SyncStage*>(stage_.get())),
      observer_(options_.observer ? options_.observer : &null_observer()),
      spec_(options_.spec.find_stage(options_.stage)),
      exactly_once_(spec_ != nullptr && spec_->guarantee == topics::Guarantee::kExactlyOnce),
      circuit_(spec_ ? spec_->circuit : topics::CircuitPolicy{}),
      dispatcher_(spec_ ? static_cast<size_t>(spec_->concurrency) : 1) {
  // The spec's commit_interval, when set, wins over the options' defaults.
  if (spec_ != nullptr && spec_->commit_interval) {
    options_.commit_interval = options_.transaction_interval = *spec_->commit_interval;
  }
  wakes_ = spec_ != nullptr && spec_->state && stage_ && stage_->wakes();
}

WorkerImpl::~WorkerImpl() {
  // Fallback only: run() closes everything in order. The stage goes first so
  // no thread of it can still push into completions_.
  if (stage_) (void)stage_->close();
  completions_.clear_wake_hook();
}

Status WorkerImpl::start() {
  if (spec_ == nullptr) {
    return usage_error(options_.spec.file + ": no stage named '" +
                       options_.stage + "'");
  }
  const std::string& pipeline = options_.spec.pipeline;
  // The retry topic is consumed in both retry modes: records left there by
  // an earlier run (or by workers in topic mode) still get their attempts.
  consumed_topics_ = {topics::input_topic(options_.spec, *spec_),
                      topics::retry_topic(pipeline, spec_->name)};
  consumed_handles_.assign(consumed_topics_.size(), nullptr);
  dlq_topic_ = topics::dlq_topic(pipeline, spec_->name);
  for (const std::string& next : spec_->next) {
    next_topics_[next] = topics::stage_topic(pipeline, next);
  }
  default_output_topics_ = topics::output_topics(options_.spec, *spec_);
  address_scratch_ = {pipeline, spec_->name, ""};
  if (exactly_once_ && options_.instance.empty()) {
    return usage_error("stage " + spec_->name + ": exactly_once needs a worker instance name");
  }
  if (Status s = create_consumer(); !s.is_ok()) return s;
  sink_ = std::make_unique<OutputSink>(
      spec_->name, options_.kafka, options_.max_record_bytes,
      OutputSink::Events{
          [this](uint64_t id) { on_acked(id); },
          [this](uint64_t id, SendFailure f, const std::string& why) { on_send_failed(id, f, why); },
          [this](const std::string& topic, int32_t partition, int64_t position, bool ok) {
            on_committed(topic, partition, position, ok);
          },
          [this] { return stop_seen() || abandon_seen(); }},
      exactly_once_ ? topics::transactional_id(pipeline, spec_->name, options_.instance)
                    : std::string());
  if (Status s = sink_->open(consumer_.get(), consumer_queue_.get()); !s.is_ok()) return s;
  if (Status s = check_reachable(sink_->producer(), options_.kafka); !s.is_ok()) return s;
  if (Status s = check_topics(); !s.is_ok()) return s;
  if (Status s = open_state(); !s.is_ok()) return s;
  if (Status s = start_lag_watcher(); !s.is_ok()) return s;
  if (Status s = stage_->init({pipeline, *spec_}); !s.is_ok()) {
    return Status(s.code(), "stage " + spec_->name + ": " + s.message());
  }
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  for (const std::string& topic : consumed_topics_) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  return kafka_status(rd_kafka_subscribe(consumer_.get(), topics.get()),
                      "subscribe to " + consumed_topics_[kInputTopic] + " and " +
                          consumed_topics_[kRetryTopic]);
}

Status WorkerImpl::create_consumer() {
  ClientSpec consumer =
      consumer_spec(topics::group_id(options_.spec.pipeline, spec_->name), exactly_once_);
  consumer.customize = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_trampoline);
  };
  auto made_consumer = make_client(options_.kafka, std::move(consumer));
  if (!made_consumer.is_ok()) return made_consumer.status();
  consumer_ = std::move(made_consumer).value();
  rd_kafka_poll_set_consumer(consumer_.get());
  consumer_queue_.reset(rd_kafka_queue_get_consumer(consumer_.get()));
  return Status::ok();
}

// One all-topics metadata request (see topic_metadata.h): asking for the
// topics by name could make a broker auto-create them with its defaults.
Status WorkerImpl::check_topics() {
  auto existing = describe_topics(sink_->producer(), options_.kafka);
  if (!existing.is_ok()) return existing.status();
  std::vector<std::string> needed = consumed_topics_;
  needed.push_back(dlq_topic_);
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
  spdlog::info("stage {}: consuming {} and {} as group {} (retry mode {}, {})", spec_->name,
               consumed_topics_[kInputTopic], consumed_topics_[kRetryTopic],
               topics::group_id(options_.spec.pipeline, spec_->name),
               spec_->retry.mode == topics::RetryMode::kTopic ? "topic" : "in_place",
               exactly_once_ ? "exactly_once as " + topics::transactional_id(
                                                         options_.spec.pipeline, spec_->name,
                                                         options_.instance)
                             : std::string("at_least_once"));
  next_commit_ = Clock::now() +
                 (exactly_once_ ? options_.transaction_interval : options_.commit_interval);
  // The hook's queue belongs to the consumer: shutdown() clears the hook
  // before the consumer goes, so a stage finishing late never touches it.
  completions_.set_wake_hook([queue = consumer_queue_.get()] { rd_kafka_queue_yield(queue); },
                             std::this_thread::get_id());
  while (!stop_seen() && fatal_.is_ok()) run_once();
  Status closed = shutdown();
  return fatal_.is_ok() ? closed : fatal_;
}

void WorkerImpl::run_once() {
  unix_minus_steady_ = std::chrono::system_clock::now().time_since_epoch() -
                       Clock::now().time_since_epoch();
  consume_phase(poll_wait_ms());
  dispatch_and_complete_phase();
  expire_timeouts();
  sink_->poll(0);
  sink_->poll_commits();
  if (Status s = recover_phase(); !s.is_ok()) fatal_ = s;
  restore_phase();
  tick_phase();
  if (Clock::now() >= next_commit_ || transaction_due()) commit_phase();
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
    if (!dispatcher_.has_ready() || sink_->congested()) return;
  }
}

// How long consume_phase may block: not at all when a task can start now,
// until the next retry is due, else 100 ms. Tasks waiting behind a busy key
// are not ready: the key's outcome wakes the poll. Whatever arrives meanwhile
// ends the wait early: a record, a stage completion (CompletionQueue's wake
// hook), a delivery report (the sink's producer queue event).
int WorkerImpl::poll_wait_ms() const {
  if (!completions_.empty()) return 0;
  // A restore goes on between polls: it must not wait behind them.
  int wait = restorer_ && !restorer_->idle() ? 1 : 100;
  auto now = Clock::now();
  auto wait_until = [&](Clock::time_point at) {
    wait = wait_millis(at - now, wait);
  };
  if (held()) {
    wait_until(held_until_);
  } else if (sink_->congested()) {
    wait = 5;  // the backlog drains as acks arrive
  } else if (dispatcher_.has_ready()) {
    return 0;
  }
  if (!retries_.empty()) wait_until(retries_.top().at);
  if (circuit_.state(now) == CircuitState::kOpen) wait_until(circuit_.open_until());
  if (!timeouts_.empty()) wait_until(timeouts_.top().at);
  for (const auto& [where, partition] : partitions_) {
    if (partition.phase == PartitionPhase::kActive) continue;
    wait_until(partition.retry_at);
  }
  return wait;
}

bool WorkerImpl::stop_seen() const {
  return stopping_ || (stop_ != nullptr && stop_->load(std::memory_order_relaxed));
}

// A second SIGTERM or SIGINT: every wait ends at once.
bool WorkerImpl::abandon_seen() const {
  return options_.abandon != nullptr && options_.abandon->load(std::memory_order_relaxed);
}

// The shutdown deadline, counted from the first time the stop is seen.
Clock::time_point WorkerImpl::stop_deadline() {
  if (shutdown_deadline_at_ == Clock::time_point::max()) {
    shutdown_deadline_at_ = Clock::now() + options_.shutdown_deadline;
  }
  return shutdown_deadline_at_;
}

void WorkerImpl::move_to(TaskRecord& record, TaskState state) {
  SLUICE_CHECK(task_transition_allowed(record.state, state),
               std::string("task state ") + task_state_name(record.state) + " -> " +
                   task_state_name(state) + " is not in the table (task_state.h)");
  if (record.state == TaskState::kParked) --parked_;
  if (record.state == TaskState::kDelayed) --delayed_;
  if (state == TaskState::kParked) ++parked_;
  record.state = state;
}

// Shutdown order: stop fetching, finish the running tasks within the
// deadline, wait for delivery, commit (with the offsets done above each
// position, so a restart skips them), leave the group, close producer, close
// stage. Every wait is bounded by the shutdown deadline, and a second signal
// (options_.abandon) ends them at once. Tasks not yet started are dropped:
// uncommitted, they run after the restart.
Status WorkerImpl::shutdown() {
  stopping_ = true;
  auto deadline = stop_deadline();
  lag_watcher_.reset();  // its pause gives way to kPauseStopping; no report after this
  spdlog::info("stage {}: shutting down ({} tasks running)", spec_->name,
               dispatcher_.in_flight());
  for (auto& [where, partition] : partitions_) partition.set_reason(kPauseStopping, true);
  apply_pauses();
  drain_until(deadline, [](const TaskRecord& r) { return r.partition != nullptr; });
  size_t unfinished = 0;
  records_.for_each([&](const TaskRecord& r) { unfinished += r.partition != nullptr; });
  if (unfinished > 0) {
    spdlog::warn("stage {}: {} tasks unfinished at the shutdown deadline; they were not "
                 "committed and will run again", spec_->name, unfinished);
  }
  if (!commit_and_wait(deadline)) log_uncommitted();
  close_consumer(deadline);
  close_state();  // what the revocation did not close cleanly (state_store.h)
  close_ticks();
  // The stage may still finish a task from its own thread: from here on its
  // completion wakes nothing (the consumer queue is about to go).
  completions_.clear_wake_hook();
  Status stage_closed = stage_->close();
  stage_.reset();
  sink_->close();
  sink_.reset();
  consumer_queue_.reset();
  consumer_.reset();
  spdlog::info("stage {}: stopped", spec_->name);
  return stage_closed;
}

// Leaves the group (the revoke callback drains and commits once more) within
// the deadline; past it, the consumer is destroyed without its close.
void WorkerImpl::close_consumer(Clock::time_point deadline) {
  KafkaQueue close_queue(rd_kafka_queue_new(consumer_.get()));
  KafkaError error(rd_kafka_consumer_close_queue(consumer_.get(), close_queue.get()));
  if (error) {
    spdlog::warn("stage {}: {}", spec_->name, kafka_status(error.get(), "leave group").message());
  } else {
    while (!rd_kafka_consumer_closed(consumer_.get())) {
      if (Clock::now() >= deadline || abandon_seen()) {
        spdlog::warn("stage {}: the group was not left before the shutdown deadline; the "
                     "broker ends this member's session when it times out", spec_->name);
        break;
      }
      // The close forwards the consumer's queue here, fetched records
      // included, which a callback poll cannot serve (librdkafka asserts): so
      // events. Records are dropped, uncommitted; the revocation is ours.
      KafkaEvent event(rd_kafka_queue_poll(close_queue.get(), 50));
      if (event && rd_kafka_event_type(event.get()) == RD_KAFKA_EVENT_REBALANCE) {
        on_rebalance(rd_kafka_event_error(event.get()),
                     rd_kafka_event_topic_partition_list(event.get()));
      }
    }
  }
  sink_->detach_consumer();
  if (rd_kafka_consumer_closed(consumer_.get())) return;
  consumer_queue_.reset();
  close_queue.reset();
  // Even without its close, destroying a consumer whose close began waits
  // for librdkafka's own timeouts (10 s with the broker gone): past the
  // deadline that wait finishes on a thread of its own, holding nothing of ours.
  std::thread([consumer = consumer_.release()] {
    rd_kafka_destroy_flags(consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }).detach();
}

// Runs the selected records' running tasks to their end (outcomes,
// deliveries) until none is left or the deadline passes. Tasks waiting to
// start or to be retried are dropped uncommitted: whoever reads the
// partition next runs them.
void WorkerImpl::drain_until(Clock::time_point deadline,
                             const std::function<bool(const TaskRecord&)>& counts) {
  // Records held back for the next transaction must go out to be acked.
  if (exactly_once_) release_hold();
  while (true) {
    drop_records([&](const TaskRecord& r) {
      return counts(r) && (r.state == TaskState::kWaiting || r.state == TaskState::kParked ||
                           r.state == TaskState::kDelayed);
    });
    completion_phase();
    sink_->poll(0);
    // Tasks acknowledged leave their offsets to a flush, which counts as a
    // record of its partition until acknowledged.
    flush_changelogs();
    if (!records_.any_of(counts) || Clock::now() >= deadline || abandon_seen()) return;
    // A partition that needs a rewind cannot be acked in full: its records
    // are dropped uncommitted and run again.
    drop_records([&](const TaskRecord& r) {
      return counts(r) && r.partition->phase == PartitionPhase::kRewinding;
    });
    if (sink_->needs_rebuild() || transaction_doomed_) drop_records(counts);
    sink_->poll(5);
  }
}

}  // namespace engine
}  // namespace sluice
