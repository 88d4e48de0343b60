// Fault injection on librdkafka's mock cluster: a worker whose deliveries
// fail must rewind to its last commit and lose nothing.
//
// The mock cluster is the right tool here (it can fail chosen requests on
// demand); the durability claims themselves are tested against a real broker
// in tests/integration.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "embedded_pipeline.h"
#include "gated_stage.h"
#include "raw_producer.h"
#include "sluice/embedded_broker.h"
#include "sluice/observer.h"
#include "sluice/stages/registry.h"
#include "sluice/submitter.h"
#include "sluice/topic_reader.h"
#include "sluice/topics/names.h"
#include "sluice/worker.h"
#include "wait_until.h"

namespace sluice {
namespace {

constexpr int kJobs = 300;
constexpr const char* kSpec = R"(pipeline: faults
kafka: {brokers: embedded}
defaults: {partitions: 3, concurrency: 8}
stages:
  - {name: pass, kind: builtin, builtin: passthrough}
)";

// Job id -> how many times it reached <faults>.done.
using Seen = std::map<std::string, int>;

class WorkerFaults : public testing::EmbeddedPipelineTest {
 protected:
  void SetUp() override {
    start_pipeline(kSpec, "faults.yaml");
    if (!HasFatalFailure()) submit_jobs();
  }

  void submit_jobs() {
    auto submitter = JobSubmitter::create(spec_, kafka_);
    ASSERT_TRUE(submitter.is_ok()) << submitter.status().message();
    for (int i = 0; i < kJobs; ++i) {
      Job job{"{\"n\":" + std::to_string(i) + "}", "application/json", "k" + std::to_string(i % 10)};
      ASSERT_TRUE((*submitter)->submit(job).is_ok());
    }
    ASSERT_TRUE((*submitter)->flush(std::chrono::seconds(30)).is_ok());
  }

  // Runs the stage until every job reached done (or 60 s passed), stops it
  // gracefully, then reads done to its end; returns what done holds.
  Seen run_until_all_done(Status* run_status, size_t jobs = kJobs) {
    auto stage = stages::make_stage(*spec_.find_stage("pass"));
    if (!stage.is_ok()) {
      ADD_FAILURE() << stage.status().message();
      return {};
    }
    WorkerOptions options{spec_, "pass", kafka_};
    options.commit_interval = std::chrono::milliseconds(200);
    auto worker = Worker::create(std::move(options), std::move(stage).value());
    auto reader = TopicReader::create(kafka_, topics::done_topic(spec_.pipeline), true);
    if (!worker.is_ok() || !reader.is_ok()) {
      ADD_FAILURE() << worker.status().message() << reader.status().message();
      return {};
    }
    std::atomic<bool> stop{false};
    std::thread runner([&] { *run_status = (*worker)->run(stop); });
    Seen seen;
    read_done(**reader, &seen, jobs, std::chrono::seconds(60));
    stop = true;
    runner.join();
    // Whatever arrived after the last new job counts too (duplicates).
    read_done(**reader, &seen, SIZE_MAX, std::chrono::seconds(3));
    return seen;
  }

  // Reads done records into `seen` until `distinct` jobs were seen, or no
  // record arrived for `idle`, or 60 s passed.
  static void read_done(TopicReader& reader, Seen* seen, size_t distinct,
                        std::chrono::seconds idle) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto idle_until = std::chrono::steady_clock::now() + idle;
    while (seen->size() < distinct && std::chrono::steady_clock::now() < deadline &&
           std::chrono::steady_clock::now() < idle_until) {
      auto record = reader.next(std::chrono::milliseconds(500));
      ASSERT_TRUE(record.is_ok()) << record.status().message();
      if (!record->has_value()) continue;
      ++(*seen)[(*record)->job_id];
      idle_until = std::chrono::steady_clock::now() + idle;
    }
  }

  // Writes bytes that are not an envelope to the intake topic, the way a
  // foreign producer would.
  void produce_foreign_bytes(const std::string& bytes) {
    testing::produce_raw(kafka_.bootstrap, topics::intake_topic(spec_.pipeline), "", bytes);
  }

  static int duplicates(const Seen& seen) {
    int extra = 0;
    for (const auto& [job, count] : seen) extra += count - 1;
    return extra;
  }

};

TEST_F(WorkerFaults, FailedDeliveriesRewindToTheLastCommitAndLoseNothing) {
  constexpr int kTopicAuthorizationFailed = 29;  // not retried by the client: delivery fails
  broker_->fail_next_produce_requests(3, kTopicAuthorizationFailed);

  Status run_status;
  Seen seen = run_until_all_done(&run_status);

  EXPECT_EQ(seen.size(), static_cast<size_t>(kJobs)) << "jobs lost after failed deliveries";
  EXPECT_TRUE(run_status.is_ok()) << run_status.message();
  std::printf("measured: %zu of %d jobs done after 3 failed Produce requests; %d duplicates\n",
              seen.size(), kJobs, duplicates(seen));
}

TEST_F(WorkerFaults, RetriableProduceErrorsAreRetriedWithoutDuplicates) {
  constexpr int kNotLeader = 6;  // retried inside the idempotent producer
  broker_->fail_next_produce_requests(3, kNotLeader);

  Status run_status;
  Seen seen = run_until_all_done(&run_status);

  EXPECT_EQ(seen.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(duplicates(seen), 0);
  EXPECT_TRUE(run_status.is_ok()) << run_status.message();
}

TEST_F(WorkerFaults, ForeignBytesAreDeadLetteredWithoutBlockingThePartition) {
  produce_foreign_bytes("this is not an envelope");
  submit_jobs();  // a second batch, behind the foreign record in every partition

  Status run_status;
  Seen seen = run_until_all_done(&run_status, 2 * kJobs);

  EXPECT_EQ(seen.size(), static_cast<size_t>(2 * kJobs));
  EXPECT_TRUE(run_status.is_ok()) << run_status.message();
  auto reader = TopicReader::create(kafka_, topics::dlq_topic(spec_.pipeline, "pass"), true);
  ASSERT_TRUE(reader.is_ok());
  auto letter = (*reader)->next(std::chrono::seconds(10));
  ASSERT_TRUE(letter.is_ok() && letter->has_value()) << "no dead letter";
  EXPECT_TRUE((*letter)->decoded);
  EXPECT_EQ((*letter)->payload, "this is not an envelope");
  ASSERT_EQ((*letter)->errors.size(), 1u);
  EXPECT_EQ((*letter)->errors[0].kind, "undecodable");
  EXPECT_EQ((*letter)->origin_topic, topics::intake_topic(spec_.pipeline));
}

// Counts tasks whose outputs the worker went on to produce.
class EndedTasks : public WorkerObserver {
 public:
  void task_ended(TaskResult, double, double) override { ++ended; }
  std::atomic<int> ended{0};
};

// A broker that takes records but never acknowledges them fills the
// producer's queue; a stop must still end the worker within its shutdown
// deadline (not after message.timeout.ms), committing nothing unacknowledged.
TEST_F(WorkerFaults, StopWithAFullProducerQueueEndsWithinTheShutdownDeadline) {
  constexpr int kNotLeader = 6;  // retried by the producer until message.timeout.ms
  // Below the jobs' 10 keys: a key is held until its ack, so at most 10
  // tasks can be producing.
  constexpr int kQueueLimit = 5;
  broker_->fail_next_produce_requests(1000000, kNotLeader);
  auto stage = stages::make_stage(*spec_.find_stage("pass"));
  ASSERT_TRUE(stage.is_ok());
  EndedTasks observer;
  WorkerOptions options{spec_, "pass", kafka_};
  options.kafka.properties["queue.buffering.max.messages"] = std::to_string(kQueueLimit);
  options.kafka.properties["message.timeout.ms"] = "60000";
  options.shutdown_deadline = std::chrono::seconds(2);
  options.observer = &observer;
  auto worker = Worker::create(std::move(options), std::move(stage).value());
  ASSERT_TRUE(worker.is_ok()) << worker.status().message();
  std::atomic<bool> stop{false};
  std::future<Status> run = std::async(std::launch::async, [&] { return (*worker)->run(stop); });
  // Dispatch stops once the queue holds 3/4 of its limit (the sink's high
  // mark), instead of blocking in produce on a full queue.
  constexpr int kHighMark = kQueueLimit * 3 / 4;
  bool filled = testing::wait_until([&] { return observer.ended >= kHighMark; },
                                    std::chrono::seconds(30));
  if (!filled) stop = true;  // run is joined on the way out either way
  ASSERT_TRUE(filled) << "the worker never filled its producer queue";

  auto stop_at = std::chrono::steady_clock::now();
  stop = true;
  bool returned = run.wait_for(std::chrono::seconds(45)) == std::future_status::ready;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stop_at).count();
  Status run_status = run.get();

  EXPECT_TRUE(returned && seconds < 10.0) << "stop took as long as message.timeout.ms";
  EXPECT_EQ(observer.ended, kHighMark) << "tasks ran while the queue stayed full";
  EXPECT_TRUE(run_status.is_ok()) << run_status.message();
  std::printf("measured: stopped %.1f s after the stop with a full producer queue\n", seconds);
}

class PauseEvents : public WorkerObserver {
 public:
  void paused_changed(bool paused) override {
    std::lock_guard lock(mutex);
    events.push_back(paused);
  }
  std::vector<bool> seen() {
    std::lock_guard lock(mutex);
    return events;
  }
  std::mutex mutex;
  std::vector<bool> events;
};

// 300 small records (~250 bytes each) behind a stage that holds its tasks:
// far under max_buffered_tasks, but over max_buffered_bytes, so consumption
// pauses; once the stage lets go it resumes, and every job is done.
TEST_F(WorkerFaults, BufferedInputBytesPauseConsumptionUntilTheyDrain) {
  auto holding = std::make_unique<testing::GatedStage>(/*open=*/false);
  testing::GatedStage* stage = holding.get();
  PauseEvents pauses;
  WorkerOptions options{spec_, "pass", kafka_};
  options.spec.stages[0].max_buffered_bytes = 16 * 1024;  // the spec's one stage
  options.observer = &pauses;
  auto worker = Worker::create(std::move(options), std::move(holding));
  auto reader = TopicReader::create(kafka_, topics::done_topic(spec_.pipeline), true);
  ASSERT_TRUE(worker.is_ok() && reader.is_ok())
      << worker.status().message() << reader.status().message();
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread runner([&] { run_status = (*worker)->run(stop); });

  (void)testing::wait_until([&] { return !pauses.seen().empty(); }, std::chrono::seconds(30));
  std::vector<bool> before_release = pauses.seen();
  stage->open_gate();
  Seen seen;
  read_done(**reader, &seen, kJobs, std::chrono::seconds(30));
  stop = true;
  runner.join();

  EXPECT_EQ(before_release, std::vector<bool>{true}) << "never paused on bytes";
  std::vector<bool> all = pauses.seen();
  ASSERT_GE(all.size(), 2u);
  EXPECT_FALSE(all[1]) << "did not resume once the bytes drained";
  EXPECT_EQ(seen.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(duplicates(seen), 0);
  EXPECT_TRUE(run_status.is_ok()) << run_status.message();
}

}  // namespace
}  // namespace sluice
