// Regression tests for the worker core's defects (the worker-core issue),
// on librdkafka's mock cluster where a fault must be injected. Each names the
// defect it guards against; each failed on 1a97680.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "embedded_pipeline.h"
#include "sluice/embedded_broker.h"
#include "sluice/observer.h"
#include "sluice/submitter.h"
#include "sluice/topic_reader.h"
#include "sluice/topics/names.h"
#include "sluice/worker.h"
#include "wait_until.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kSpec = R"(pipeline: core
kafka: {brokers: embedded}
defaults: {partitions: 3, concurrency: 4}
stages:
  - {name: work, kind: builtin, builtin: passthrough}
)";

// Passes each payload on, after `delay_ms` (on its own thread), with an
// output of `big_bytes` for payloads that say "big". Counts how many tasks it
// holds at once and whether it was ever handed a task it already held.
class ProbeStage : public Stage {
 public:
  ProbeStage(int delay_ms, size_t big_bytes) : delay_ms_(delay_ms), big_bytes_(big_bytes) {}
  ~ProbeStage() override { join(); }

  void process(const Task& task, Completion done) override {
    {
      std::lock_guard lock(mutex_);
      if (!held_.insert(task.id).second) ++handed_twice;
      max_held = std::max(max_held.load(), static_cast<int>(held_.size()));
    }
    Outcome outcome;
    Output& output = outcome.outputs.emplace_back();
    output.payload = task.payload.find("big") != std::string::npos
                         ? std::string(big_bytes_, 'x')
                         : task.payload;
    std::string id = task.id;
    auto finish = [this, id, outcome = std::move(outcome), done = std::move(done)]() mutable {
      if (delay_ms_ > 0) std::this_thread::sleep_for(milliseconds(delay_ms_));  // the work
      {
        std::lock_guard lock(mutex_);
        held_.erase(id);
      }
      done(std::move(outcome));
    };
    std::lock_guard lock(mutex_);
    threads_.emplace_back(std::move(finish));
  }
  Status close() override {
    join();
    return Status::ok();
  }

  std::atomic<int> max_held{0};
  std::atomic<int> handed_twice{0};

 private:
  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }
  int delay_ms_;
  size_t big_bytes_;
  std::mutex mutex_;
  std::set<std::string> held_;
  std::vector<std::thread> threads_;
};

class Assignments : public WorkerObserver {
 public:
  void assignment_changed(size_t partitions) override { assigned = partitions; }
  void task_ended(TaskResult, double, double) override { ++ended; }
  std::atomic<size_t> assigned{0};
  std::atomic<int> ended{0};
};

class WorkerCore : public testing::EmbeddedPipelineTest {
 protected:
  void SetUp() override { start_pipeline(kSpec, "core.yaml"); }

  void submit(int jobs, int keys, const std::string& body = "job") {
    auto submitter = JobSubmitter::create(spec_, kafka_);
    ASSERT_TRUE(submitter.is_ok()) << submitter.status().message();
    for (int i = 0; i < jobs; ++i) {
      std::string payload = "\"" + body + " " + std::to_string(i) + "\"";
      ASSERT_TRUE(
          (*submitter)->submit({payload, "application/json", "k" + std::to_string(i % keys)})
              .is_ok());
    }
    ASSERT_TRUE((*submitter)->flush(seconds(30)).is_ok());
  }

  WorkerOptions options() {
    WorkerOptions o{spec_, "work", kafka_};
    o.commit_interval = milliseconds(200);
    o.shutdown_deadline = seconds(2);
    return o;
  }

  // Job ids (with their count) on `topic`, read until `distinct` were seen or
  // nothing new arrived for `idle`.
  std::map<std::string, int> read_jobs(const std::string& topic, size_t distinct,
                                       seconds idle = seconds(3),
                                       std::vector<TopicRecord>* records = nullptr) {
    std::map<std::string, int> seen;
    auto reader = TopicReader::create(kafka_, topic, true);
    if (!reader.is_ok()) {
      ADD_FAILURE() << reader.status().message();
      return seen;
    }
    auto deadline = Clock::now() + seconds(60);
    auto idle_until = Clock::now() + idle;
    while (seen.size() < distinct && Clock::now() < deadline && Clock::now() < idle_until) {
      auto record = (*reader)->next(milliseconds(200));
      if (!record.is_ok()) {
        ADD_FAILURE() << record.status().message();
        return seen;
      }
      if (!record->has_value()) continue;
      ++seen[(*record)->job_id];
      if (records != nullptr) records->push_back(**record);
      idle_until = Clock::now() + idle;
    }
    return seen;
  }
  std::string done_topic() const { return topics::done_topic(spec_.pipeline); }
  std::string dlq_topic() const { return topics::dlq_topic(spec_.pipeline, "work"); }
};

// Runs a worker on its own thread until stopped.
class Running {
 public:
  Running(WorkerOptions options, std::unique_ptr<Stage> stage) {
    auto made = Worker::create(std::move(options), std::move(stage));
    if (!made.is_ok()) {
      ADD_FAILURE() << made.status().message();
      return;
    }
    worker_ = std::move(made).value();
    result_ = std::async(std::launch::async, [this] { return worker_->run(stop_); });
  }
  ~Running() { (void)stop(seconds(60)); }
  // Stops it; nullopt if it did not return within `bound`.
  std::optional<Status> stop(Clock::duration bound) {
    if (!result_.valid()) return Status::ok();
    stop_ = true;
    if (result_.wait_for(bound) != std::future_status::ready) return std::nullopt;
    return result_.get();
  }

 private:
  std::atomic<bool> stop_{false};
  std::unique_ptr<Worker> worker_;
  std::future<Status> result_;
};

// Defect 3: a permanent per-record produce error (a 2 MB output) rewound
// forever: the job was never done nor dead-lettered and its partition
// stopped. Now it is dead-lettered as too_large, with a letter that fits,
// and the others flow on.
TEST_F(WorkerCore, AnOutputTooLargeIsDeadLetteredAndTheRestFlowOn) {
  submit(30, 10);
  submit(2, 2, "big");
  auto stage = std::make_unique<ProbeStage>(0, 2 * 1024 * 1024);
  Running worker(options(), std::move(stage));
  auto done = read_jobs(done_topic(), 30);
  std::vector<TopicRecord> letters;
  auto dead = read_jobs(dlq_topic(), 2, seconds(3), &letters);
  auto stopped = worker.stop(seconds(20));

  EXPECT_EQ(done.size(), 30u);
  ASSERT_EQ(dead.size(), 2u) << "the big outputs were not dead-lettered";
  for (const TopicRecord& letter : letters) {
    ASSERT_FALSE(letter.errors.empty());
    EXPECT_EQ(letter.errors.back().kind, "too_large");
    EXPECT_NE(letter.errors.back().message.find("max_record_bytes"), std::string::npos);
  }
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(stopped->is_ok()) << stopped->message();
}

// Defect 3, the broker's side: a record the broker refuses as too large
// after its input was released is dead-lettered when the rewind reads it again.
TEST_F(WorkerCore, ARecordTheBrokerRefusesAsTooLargeIsDeadLetteredNotRewoundForever) {
  submit(60, 10);
  constexpr int kMessageTooLarge = 10;
  broker_->fail_next_produce_requests(1, kMessageTooLarge);
  Running worker(options(), std::make_unique<ProbeStage>(0, 0));
  auto done = read_jobs(done_topic(), 60);
  auto dead = read_jobs(dlq_topic(), 60, seconds(3));
  auto stopped = worker.stop(seconds(20));

  size_t ended = 0;
  for (const auto& [job, count] : done) ended += dead.count(job) == 0;
  EXPECT_EQ(ended + dead.size(), 60u) << "jobs neither done nor dead-lettered";
  EXPECT_GE(dead.size(), 1u) << "the refused records were not dead-lettered";
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(stopped->is_ok()) << stopped->message();
}

// Defects 1 and 12: failed deliveries rewind while the broker also fails the
// committed-offset reads. The old rewind reset its tracker before the read,
// so when the read timed out the next fetch was committed past the dropped
// range. Nothing may be lost.
TEST_F(WorkerCore, RewindsWhileCommittedReadsFailLoseNothing) {
  submit(300, 10);
  constexpr int kOffsetFetch = 9;
  constexpr int kCoordinatorNotAvailable = 15;
  constexpr int kTopicAuthorizationFailed = 29;  // delivery fails, not retried by the client
  broker_->fail_next_produce_requests(4, kTopicAuthorizationFailed);
  broker_->fail_next_requests(kOffsetFetch, 6, kCoordinatorNotAvailable);
  Running worker(options(), std::make_unique<ProbeStage>(0, 0));
  auto done = read_jobs(done_topic(), 300, seconds(15));
  auto stopped = worker.stop(seconds(20));

  EXPECT_EQ(done.size(), 300u) << "jobs lost across rewinds";
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(stopped->is_ok()) << stopped->message();
}

// Defect 4: dropping a running task freed its slot while the stage still
// held it; the re-read task was refused "already in flight" and others
// "overload", each costing an attempt, until the buffer reached the DLQ.
TEST_F(WorkerCore, ARewindNeverHandsTheStageMoreThanConcurrencyOrATaskTwice) {
  // Tasks of a second, so that they still run when the rewind re-reads them.
  submit(40, 40);
  constexpr int kTopicAuthorizationFailed = 29;
  broker_->fail_next_produce_requests(3, kTopicAuthorizationFailed);
  auto stage = std::make_unique<ProbeStage>(1000, 0);
  ProbeStage* probe = stage.get();
  Running worker(options(), std::move(stage));
  auto done = read_jobs(done_topic(), 40, seconds(15));
  auto dead = read_jobs(dlq_topic(), 1, seconds(1));
  int max_held = probe->max_held, handed_twice = probe->handed_twice;  // the worker owns it
  auto stopped = worker.stop(seconds(20));

  EXPECT_EQ(done.size(), 40u);
  EXPECT_TRUE(dead.empty()) << dead.size() << " jobs dead-lettered";
  EXPECT_LE(max_held, 4) << "more tasks in the stage than its concurrency";
  EXPECT_EQ(handed_twice, 0) << "a task was handed to the stage while it held it";
  ASSERT_TRUE(stopped.has_value());
}

// Defect 7: with every waiting task behind one busy key, the loop polled
// with no wait (0.54 of a core for 5 s). Now it sleeps until an outcome.
TEST_F(WorkerCore, TasksWaitingBehindOneBusyKeyCostNoCpu) {
  submit(13, 1);  // one key: each task waits for the one before
  auto stage = std::make_unique<ProbeStage>(2500, 0);
  ProbeStage* probe = stage.get();
  auto made = Worker::create(options(), std::move(stage));
  ASSERT_TRUE(made.is_ok()) << made.status().message();
  std::atomic<bool> stop{false};
  Status result;
  std::thread runner([&] { result = (*made)->run(stop); });
  clockid_t cpu_clock;
  ASSERT_EQ(pthread_getcpuclockid(runner.native_handle(), &cpu_clock), 0);
  auto cpu_seconds = [&] {
    timespec ts{};
    clock_gettime(cpu_clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  bool started = testing::wait_until([&] { return probe->max_held >= 1; }, seconds(30));
  double cpu_before = cpu_seconds();
  auto wall_before = Clock::now();
  // Within the first task's 2.5 s: twelve tasks wait behind it.
  std::this_thread::sleep_for(seconds(2));  // the interval measured, not a wait for a condition
  double cpu = cpu_seconds() - cpu_before;
  double wall = std::chrono::duration<double>(Clock::now() - wall_before).count();
  stop = true;
  runner.join();

  ASSERT_TRUE(started);
  EXPECT_LT(cpu / wall, 0.05) << "the worker spun: " << cpu << " s of CPU in " << wall << " s";
  std::printf("measured: %.4f s of worker CPU over %.1f s with 12 tasks behind a busy key\n",
              cpu, wall);
}

// Defect 6: produce() waited on a full producer queue inside the loop, so no
// rebalance was served and a joining member waited for max.poll.interval.ms.
// Now the loop goes on (dispatch stops instead) and the rebalance completes.
TEST_F(WorkerCore, AFullProducerQueueDoesNotHoldUpARebalance) {
  submit(200, 50);
  constexpr int kNotLeader = 6;  // retried by the producer until message.timeout.ms
  broker_->fail_next_produce_requests(1000000, kNotLeader);
  Assignments first_seen, second_seen;
  WorkerOptions first = options();
  first.kafka.properties["queue.buffering.max.messages"] = "8";
  first.kafka.properties["message.timeout.ms"] = "120000";
  first.observer = &first_seen;
  Running a(first, std::make_unique<ProbeStage>(0, 0));
  ASSERT_TRUE(testing::wait_until([&] { return first_seen.ended >= 6; }, seconds(30)))
      << "the first worker never filled its producer queue";

  WorkerOptions second = options();
  second.observer = &second_seen;
  Running b(second, std::make_unique<ProbeStage>(0, 0));
  // The first serves the rebalance, so the two share the partitions; a first
  // worker blocked in produce is kicked out instead and the second gets all.
  bool shared = testing::wait_until(
      [&] {
        return first_seen.assigned > 0 && second_seen.assigned > 0 &&
               first_seen.assigned + second_seen.assigned == 3;
      },
      seconds(30));
  EXPECT_TRUE(shared) << "the partitions were not shared within 30 s: first owns "
                      << first_seen.assigned << ", second " << second_seen.assigned;
  EXPECT_TRUE(a.stop(seconds(20)).has_value());
  EXPECT_TRUE(b.stop(seconds(20)).has_value());
}

// Defect 13: a stop while the broker is unreachable never ended (a
// synchronous commit with no bound). Every wait is bounded by the shutdown
// deadline now.
TEST_F(WorkerCore, AStopWhileTheBrokerIsDownEndsWithinTheDeadline) {
  submit(50, 10);
  Assignments seen;
  WorkerOptions o = options();
  o.observer = &seen;
  Running worker(o, std::make_unique<ProbeStage>(0, 0));
  ASSERT_TRUE(testing::wait_until([&] { return seen.ended >= 50; }, seconds(30)));
  broker_->set_down(1, true);
  auto stop_at = Clock::now();
  auto stopped = worker.stop(seconds(30));
  double seconds_taken = std::chrono::duration<double>(Clock::now() - stop_at).count();
  broker_->set_down(1, false);

  ASSERT_TRUE(stopped.has_value()) << "the stop did not end within 30 s";
  EXPECT_LT(seconds_taken, 2.0 + 3.0) << "beyond the 2 s shutdown deadline";
  std::printf("measured: stopped %.1f s after the stop with the broker down\n", seconds_taken);
}

// Defect 13's second half: a second signal ends the shutdown's waits at once.
TEST_F(WorkerCore, AnAbandonEndsTheShutdownAtOnce) {
  submit(20, 10);
  Assignments seen;
  std::atomic<bool> abandon{false};
  WorkerOptions o = options();
  o.shutdown_deadline = seconds(60);
  o.observer = &seen;
  o.abandon = &abandon;
  Running worker(o, std::make_unique<ProbeStage>(0, 0));
  ASSERT_TRUE(testing::wait_until([&] { return seen.ended >= 20; }, seconds(30)));
  broker_->set_down(1, true);
  abandon = true;
  auto stop_at = Clock::now();
  auto stopped = worker.stop(seconds(30));
  double seconds_taken = std::chrono::duration<double>(Clock::now() - stop_at).count();
  broker_->set_down(1, false);

  ASSERT_TRUE(stopped.has_value());
  EXPECT_LT(seconds_taken, 5.0) << "the abandon waited for the 60 s deadline";
}

// Defect 2: batch consume with pause and resume skipped offsets before
// librdkafka 2.1.0. A buffer bound of 5 tasks pauses and resumes the input
// every few records: every job must still be done.
TEST_F(WorkerCore, ConstantPauseAndResumeSkipsNoOffset) {
  submit(400, 40);
  Assignments seen;
  WorkerOptions o = options();
  o.spec.stages[0].max_buffered_tasks = 5;  // the spec's one stage
  o.observer = &seen;
  Running worker(o, std::make_unique<ProbeStage>(1, 0));
  auto done = read_jobs(done_topic(), 400, seconds(15));
  auto stopped = worker.stop(seconds(20));

  EXPECT_EQ(done.size(), 400u) << "offsets skipped around pause and resume";
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(stopped->is_ok()) << stopped->message();
}

// Holds the task whose payload says "hold" until released; passes the rest.
class HoldOneStage : public Stage {
 public:
  void process(const Task& task, Completion done) override {
    Outcome outcome = Outcome::ok({Output{task.payload, {}, {}, {}}});
    std::lock_guard lock(mutex_);
    ++handed;
    if (task.payload.find("hold") != std::string::npos && !released_) {
      held_.push_back(std::move(done));
      return;
    }
    done(std::move(outcome));
  }
  void release() {
    std::vector<Completion> held;
    {
      std::lock_guard lock(mutex_);
      released_ = true;
      held.swap(held_);
    }
    for (Completion& done : held) done(Outcome::ok({}));
  }
  Status close() override {
    release();
    return Status::ok();
  }
  std::atomic<int> handed{0};

 private:
  std::mutex mutex_;
  bool released_ = false;
  std::vector<Completion> held_;
};

// Defect 9: behind one stuck offset every later offset stayed in the
// window, without bound. Now the partition pauses at max_window_per_partition.
TEST_F(WorkerCore, AStuckOffsetBoundsItsPartitionsWindow) {
  constexpr const char* kOnePartition = R"(pipeline: core1
kafka: {brokers: embedded}
defaults: {partitions: 1, concurrency: 4}
stages:
  - {name: work, kind: builtin, builtin: passthrough}
)";
  auto spec = topics::parse_spec(kOnePartition, "core1.yaml");
  ASSERT_TRUE(spec.is_ok());
  spec_ = *spec;
  ASSERT_TRUE(broker_->create_topics(spec_).is_ok());
  submit(1, 1, "hold");
  submit(3000, 50);
  auto stage = std::make_unique<HoldOneStage>();
  HoldOneStage* holding = stage.get();
  Assignments seen;
  WorkerOptions o = options();
  o.max_window_per_partition = 100;
  o.observer = &seen;
  Running worker(o, std::move(stage));
  // The window fills (100, plus at most one consumed batch of 500), then
  // nothing more is handed out while the first task is held: unbounded, all
  // 3000 would be within a second or two.
  ASSERT_TRUE(testing::wait_until([&] { return seen.ended >= 100; }, seconds(30)));
  bool ran_through = testing::wait_until([&] { return holding->handed >= 2000; }, seconds(5));
  int handed_while_held = holding->handed;
  holding->release();
  auto done = read_jobs(done_topic(), 3000, seconds(15));
  auto stopped = worker.stop(seconds(20));

  EXPECT_FALSE(ran_through) << "the window grew past its bound";
  EXPECT_LE(handed_while_held, 100 + 500 + 1) << "the window grew past its bound";
  EXPECT_EQ(done.size(), 3000u) << "the rest did not flow once the stuck task ended";
  ASSERT_TRUE(stopped.has_value());
  std::printf("measured: %d tasks handed out behind a stuck offset (window bound 100)\n",
              handed_while_held);
}

// Defect 10: after a failed delivery of R, a later acked S of the same key was
// skipped by the rewind and R's rerun landed after it. Per key, the first
// time each job reaches done must follow submission order. (What makes it
// hold is the broker refusing a batch whose predecessor failed, by its
// idempotent-producer sequence check, and gapless making that fatal. The mock
// cluster does not refuse out-of-sequence batches: with one key and a request
// per record this test fails here on today's code too, so it keeps the
// looser shape; the guarantee itself rests on the real broker.)
TEST_F(WorkerCore, PerKeyOrderHoldsAcrossFailedDeliveries) {
  submit(300, 5);  // job i has key k(i % 5) and payload "job i"
  constexpr int kTopicAuthorizationFailed = 29;
  broker_->fail_next_produce_requests(5, kTopicAuthorizationFailed);
  Running worker(options(), std::make_unique<ProbeStage>(0, 0));
  std::vector<TopicRecord> records;
  auto done = read_jobs(done_topic(), 300, seconds(15), &records);
  auto stopped = worker.stop(seconds(20));

  ASSERT_EQ(done.size(), 300u);
  std::map<std::string, int> last_per_key;
  std::set<std::string> first_seen;
  int out_of_order = 0;
  for (const TopicRecord& record : records) {
    if (!first_seen.insert(record.job_id).second) continue;  // a duplicate
    int n = std::stoi(record.payload.substr(record.payload.find(' ') + 1));
    std::string key = "k" + std::to_string(n % 5);
    auto [it, inserted] = last_per_key.emplace(key, n);
    if (!inserted) {
      out_of_order += n < it->second ? 1 : 0;
      it->second = std::max(it->second, n);
    }
  }
  EXPECT_EQ(out_of_order, 0) << "a job overtook an earlier one of its key";
  ASSERT_TRUE(stopped.has_value());
}

// Defect 11: a lost assignment was drained for up to the shutdown deadline
// and committed with a stale generation. It is abandoned at once.
TEST_F(WorkerCore, ALostAssignmentIsAbandonedAtOnce) {
  submit(30, 10, "hold");  // every task is held: a drain would wait the deadline
  auto stage = std::make_unique<HoldOneStage>();
  Assignments seen;
  WorkerOptions o = options();
  o.shutdown_deadline = seconds(60);
  o.observer = &seen;
  Running worker(o, std::move(stage));
  ASSERT_TRUE(testing::wait_until([&] { return seen.assigned > 0; }, seconds(30)));
  constexpr int kHeartbeat = 12;
  constexpr int kUnknownMemberId = 25;  // the group forgot us: the assignment is lost
  broker_->fail_next_requests(kHeartbeat, 1, kUnknownMemberId);
  auto lost_at = Clock::now();
  bool dropped = testing::wait_until([&] { return seen.assigned == 0; }, seconds(30));
  double seconds_taken = std::chrono::duration<double>(Clock::now() - lost_at).count();
  auto stopped = worker.stop(seconds(90));

  ASSERT_TRUE(dropped) << "the lost partitions were never given up";
  EXPECT_LT(seconds_taken, 10.0) << "the lost assignment was drained";
  std::printf("measured: lost assignment given up %.1f s after the heartbeat failed\n",
              seconds_taken);
}

// Fails every task with a retryable error.
class AlwaysRetryStage : public SyncStage {
 public:
  Outcome process_sync(const Task&) override { return Outcome::retry("error", "not yet"); }
};

class PauseSeen : public WorkerObserver {
 public:
  void paused_changed(bool now) override { (now ? pauses : resumes)++; }
  void assignment_changed(size_t partitions) override { assigned = partitions; }
  std::atomic<int> pauses{0}, resumes{0};
  std::atomic<size_t> assigned{0};
};

// Defect 8: tasks dropped by a revocation stayed in the retry queue, which
// flow control counted: the worker stayed paused for up to max_backoff
// after a revoke. Parked tasks are counted as records now.
TEST_F(WorkerCore, DroppedRetriesDoNotKeepTheWorkerPaused) {
  constexpr const char* kSlowRetries = R"(pipeline: core8
kafka: {brokers: embedded}
defaults: {partitions: 3, concurrency: 4, retry: {max_attempts: 5, backoff: 10m, max_backoff: 10m}}
stages:
  - {name: work, kind: builtin, builtin: passthrough}
)";
  auto spec = topics::parse_spec(kSlowRetries, "core8.yaml");
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  spec_ = *spec;
  ASSERT_TRUE(broker_->create_topics(spec_).is_ok());
  submit(60, 60);
  PauseSeen first_seen, second_seen;
  WorkerOptions first = options();
  first.spec.stages[0].max_buffered_tasks = 10;
  first.observer = &first_seen;
  Running a(first, std::make_unique<AlwaysRetryStage>());
  ASSERT_TRUE(testing::wait_until([&] { return first_seen.pauses >= 1; }, seconds(30)))
      << "ten parked retries never paused the worker";

  // A second member takes some partitions: the first drops its parked
  // retries with them, and must not stay paused on their account.
  WorkerOptions second = options();
  second.spec.stages[0].max_buffered_tasks = 10;
  second.observer = &second_seen;
  Running b(second, std::make_unique<AlwaysRetryStage>());
  bool resumed = testing::wait_until([&] { return first_seen.resumes >= 1; }, seconds(30));
  EXPECT_TRUE(resumed) << "the first worker stayed paused after its retries were dropped";
}

}  // namespace
}  // namespace sluice
