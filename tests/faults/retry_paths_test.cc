// The failure paths of issue 8 on the mock cluster, where time and faults
// can be controlled: the retry topic (a waiting retry holds neither its key
// nor the input's commit), retry_after, the asynchronous builtin's timeout
// and its late outcome, deadlines, garbage on the retry topic, and produce
// failures of retry records and dead letters. End-to-end accounting against
// the real broker is tests/integration/test_failure_accounting.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "embedded_pipeline.h"
#include "envelope.pb.h"
#include "raw_producer.h"
#include "sluice/inspect.h"
#include "sluice/observer.h"
#include "sluice/topic_reader.h"
#include "sluice/topics/names.h"
#include "sluice/worker.h"
#include "wait_until.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kSpec = R"(pipeline: retries
kafka: {brokers: embedded}
defaults:
  partitions: 2
  concurrency: 4
  timeout: 300ms
  retry: {max_attempts: 3, backoff: 2s, max_backoff: 2s}
stages:
  - {name: step, kind: builtin, builtin: passthrough}
)";

int64_t unix_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the stage does is written in the payload: "flaky" fails its first
// attempt, "bad" fails for good, "slow-down" asks for a retry after 1 s on
// its first attempt, "hang" never answers its first attempt (until the
// second has been answered: then the first's answer comes, late). With the
// gate closed, every outcome waits until it opens.
class ScriptedStage : public Stage {
 public:
  struct Call {
    std::string payload;
    uint32_t attempt;
    Clock::time_point at;
  };

  void process(const Task& task, Completion done) override {
    std::unique_lock lock(mutex_);
    calls_.push_back({task.payload, task.attempt, Clock::now()});
    Outcome outcome = decide(task);
    if (task.payload == "hang" && task.attempt == 1) {
      hung_ = std::move(done);
      return;
    }
    if (!gate_open_) {
      held_.push_back({std::move(done), std::move(outcome)});
      return;
    }
    Completion late;
    if (task.payload == "hang") late.swap(hung_);
    lock.unlock();
    done(std::move(outcome));
    if (late) late(Outcome::ok({Output{"late", std::nullopt, "", ""}}));
  }

  Status close() override {
    std::lock_guard lock(mutex_);
    held_.clear();
    hung_ = nullptr;
    return Status::ok();
  }

  void close_gate() {
    std::lock_guard lock(mutex_);
    gate_open_ = false;
  }
  void open_gate() {
    std::vector<std::pair<Completion, Outcome>> held;
    {
      std::lock_guard lock(mutex_);
      gate_open_ = true;
      held.swap(held_);
    }
    for (auto& [done, outcome] : held) done(std::move(outcome));
  }
  size_t held() const {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  static Outcome decide(const Task& task) {
    if (task.payload == "flaky" && task.attempt == 1) return Outcome::retry("error", "flaky");
    if (task.payload == "bad") return Outcome::fail("error", "bad for good");
    if (task.payload == "slow-down" && task.attempt == 1) {
      Outcome outcome = Outcome::retry("http_429", "slow down");
      outcome.retry_after = seconds(1);
      return outcome;
    }
    return Outcome::ok({Output{task.payload, std::nullopt, "", ""}});
  }

  mutable std::mutex mutex_;
  bool gate_open_ = true;
  std::vector<std::pair<Completion, Outcome>> held_;
  Completion hung_;
  std::vector<Call> calls_;
};

class Outcomes : public WorkerObserver {
 public:
  void task_ended(TaskResult result, double, double) override {
    if (result == TaskResult::kRetried) ++retried;
  }
  std::atomic<int> retried{0};
};

class RetryPaths : public testing::EmbeddedPipelineTest {
 protected:
  void SetUp() override { start_pipeline(kSpec, "retries.yaml"); }
  void TearDown() override { stop(); }

  void put(const std::string& job, const std::string& payload, const std::string& key,
           int64_t deadline_unix_ms = 0) {
    v1::Envelope e;
    e.set_job_id(job);
    e.set_task_id(job + "-task");
    e.set_pipeline("retries");
    e.set_destination_stage("step");
    e.set_attempt(1);
    e.set_content_type("text/plain");
    e.set_payload(payload);
    e.set_key(key);
    e.set_deadline_unix_ms(deadline_unix_ms);
    testing::produce_raw(kafka_.bootstrap, topics::intake_topic("retries"), key,
                         e.SerializeAsString());
  }

  void start(double jitter, std::map<std::string, std::string> properties = {}) {
    WorkerOptions options{spec_, "step", kafka_};
    options.commit_interval = milliseconds(100);
    options.shutdown_deadline = seconds(5);
    options.retry_jitter = [jitter] { return jitter; };
    options.observer = &outcomes_;
    for (auto& [name, value] : properties) options.kafka.properties[name] = value;
    auto stage = std::make_unique<ScriptedStage>();
    stage_ = stage.get();
    auto worker = Worker::create(std::move(options), std::move(stage));
    ASSERT_TRUE(worker.is_ok()) << worker.status().message();
    worker_ = std::move(worker).value();
    runner_ = std::thread([this] { run_status_ = worker_->run(stop_); });
  }

  void stop() {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
  }

  // Reads `topic` from the beginning until `ready` holds for what was read
  // (by job id, every copy kept), or 30 s passed.
  std::map<std::string, std::vector<TopicRecord>> read_until(
      const std::string& topic,
      const std::function<bool(const std::map<std::string, std::vector<TopicRecord>>&)>& ready) {
    std::map<std::string, std::vector<TopicRecord>> records;
    auto reader = TopicReader::create(kafka_, topic, true);
    if (!reader.is_ok()) {
      ADD_FAILURE() << reader.status().message();
      return records;
    }
    auto deadline = Clock::now() + seconds(30);
    while (!ready(records) && Clock::now() < deadline) {
      auto record = (*reader)->next(milliseconds(100));
      if (!record.is_ok()) {
        ADD_FAILURE() << record.status().message();
        break;
      }
      if (record->has_value()) records[(*record)->job_id].push_back(**record);
    }
    return records;
  }

  int64_t depth(const std::string& role) {
    if (!inspector_) {
      auto made = Inspector::create(spec_, kafka_);
      if (!made.is_ok()) return -1;
      inspector_ = std::move(made).value();
    }
    auto status = inspector_->status();
    if (!status.is_ok()) return -1;
    for (const TopicDepth& t : status->stages.front().topics) {
      if (t.role == role) return t.depth;
    }
    return -1;
  }

  std::string done_ = topics::done_topic("retries");
  std::string dlq_ = topics::dlq_topic("retries", "step");
  Outcomes outcomes_;
  std::unique_ptr<Inspector> inspector_;
  ScriptedStage* stage_ = nullptr;
  std::unique_ptr<Worker> worker_;
  std::atomic<bool> stop_{false};
  std::thread runner_;
  Status run_status_;
};

auto has_all(std::vector<std::string> jobs) {
  return [jobs](const std::map<std::string, std::vector<TopicRecord>>& records) {
    return std::all_of(jobs.begin(), jobs.end(),
                       [&](const std::string& j) { return records.count(j) != 0; });
  };
}

// retry.mode topic: the waiting retry is a record on the retry topic, so the
// later tasks of its own key run at once, and the input's commit moves past
// it, all during its 2 s backoff.
TEST_F(RetryPaths, AWaitingRetryHoldsNeitherItsKeyNorTheInputsCommit) {
  put("flaky-job", "flaky", "k");
  std::vector<std::string> later;
  for (int i = 0; i < 10; ++i) {
    later.push_back("later-" + std::to_string(i));
    put(later.back(), "ok " + std::to_string(i), "k");
  }
  start(/*jitter=*/1.0);  // the whole 2 s backoff

  auto done = read_until(done_, has_all(later));
  ASSERT_TRUE(has_all(later)(done));
  EXPECT_EQ(done.count("flaky-job"), 0u) << "the retry ran before its backoff";
  ASSERT_TRUE(testing::wait_until([&] { return depth("input") == 0; }, seconds(10)));
  auto input_committed_at = Clock::now();

  done = read_until(done_, has_all({"flaky-job"}));
  ASSERT_EQ(done.count("flaky-job"), 1u);
  std::vector<ScriptedStage::Call> calls = stage_->calls();
  auto first = std::find_if(calls.begin(), calls.end(), [](const auto& c) {
    return c.payload == "flaky" && c.attempt == 1;
  });
  auto second = std::find_if(calls.begin(), calls.end(), [](const auto& c) {
    return c.payload == "flaky" && c.attempt == 2;
  });
  ASSERT_NE(first, calls.end());
  ASSERT_NE(second, calls.end());
  EXPECT_GE(second->at - first->at, milliseconds(1950)) << "attempt 2 came before the backoff";
  EXPECT_LT(input_committed_at, second->at) << "the input's commit waited for the retry";
  for (const auto& call : calls) {
    if (call.payload.rfind("ok", 0) == 0) {
      EXPECT_LT(call.at, second->at);
    }
  }
  EXPECT_EQ(outcomes_.retried, 1);
  ASSERT_TRUE(testing::wait_until([&] { return depth("retry") == 0; }, seconds(10)));
}

// A retry_after from the stage holds every task, not only the one that
// failed: the dependency said it is overloaded.
TEST_F(RetryPaths, ARetryAfterHoldsTheWholeStage) {
  spec_.stages[0].concurrency = 1;  // so that nothing starts beside the failing task
  put("slow-job", "slow-down", "a");
  for (int i = 0; i < 5; ++i) put("other-" + std::to_string(i), "ok", "b" + std::to_string(i));
  start(/*jitter=*/0.0);

  auto done = read_until(done_, has_all({"slow-job", "other-0", "other-1", "other-2", "other-3",
                                         "other-4"}));
  ASSERT_EQ(done.size(), 6u);
  std::vector<ScriptedStage::Call> calls = stage_->calls();
  auto failed = std::find_if(calls.begin(), calls.end(), [](const auto& c) {
    return c.payload == "slow-down" && c.attempt == 1;
  });
  ASSERT_NE(failed, calls.end());
  for (const auto& call : calls) {
    if (call.at <= failed->at) continue;
    EXPECT_GE(call.at - failed->at, milliseconds(990))
        << call.payload << " (attempt " << call.attempt << ") started during the hold";
  }
}

// An asynchronous builtin that never answers: the run times out (300 ms),
// the task is retried, and the first run's answer, when it finally comes, is
// ignored: one output, not two.
TEST_F(RetryPaths, ARunPastItsTimeoutIsRetriedAndItsLateOutcomeIgnored) {
  put("hang-job", "hang", "h");
  start(/*jitter=*/0.0);

  auto done = read_until(done_, has_all({"hang-job"}));
  ASSERT_EQ(done.count("hang-job"), 1u);
  EXPECT_EQ(done["hang-job"][0].payload, "hang");
  put("sentinel", "ok", "h");  // after it, the late outcome has surely been served
  done = read_until(done_, has_all({"hang-job", "sentinel"}));
  EXPECT_EQ(done["hang-job"].size(), 1u) << "the late outcome was produced too";
  EXPECT_EQ(outcomes_.retried, 1);
}

TEST_F(RetryPaths, AJobPastItsDeadlineIsDeadLetteredInsteadOfRun) {
  put("late-job", "late payload", "d", /*deadline_unix_ms=*/unix_ms() - 1000);
  put("timely-job", "ok", "d", /*deadline_unix_ms=*/unix_ms() + 600000);
  start(/*jitter=*/0.0);

  auto letters = read_until(dlq_, has_all({"late-job"}));
  ASSERT_EQ(letters.count("late-job"), 1u);
  const TopicRecord& letter = letters["late-job"][0];
  ASSERT_EQ(letter.errors.size(), 1u);
  EXPECT_EQ(letter.errors[0].kind, "deadline");
  EXPECT_EQ(letter.record_headers.at("sluice-error-kind"), "deadline");
  EXPECT_EQ(read_until(done_, has_all({"timely-job"})).count("timely-job"), 1u);
  for (const auto& call : stage_->calls()) EXPECT_NE(call.payload, "late payload") << "it ran";
  EXPECT_EQ(letters.count("timely-job"), 0u);
}

TEST_F(RetryPaths, GarbageOnTheRetryTopicIsDeadLetteredWithItsBytesAndOthersFlow) {
  const std::string garbage("\xff\x01 not an envelope", 18);
  testing::produce_raw(kafka_.bootstrap, topics::retry_topic("retries", "step"), "g", garbage);
  put("fine-job", "ok", "g");
  start(/*jitter=*/0.0);

  auto letters = read_until(dlq_, [](const auto& r) { return !r.empty(); });
  ASSERT_EQ(letters.size(), 1u);
  const TopicRecord& letter = letters.begin()->second[0];
  EXPECT_EQ(letter.payload, garbage);
  EXPECT_EQ(letter.origin_topic, topics::retry_topic("retries", "step"));
  EXPECT_EQ(letter.record_headers.at("sluice-error-kind"), "undecodable");
  EXPECT_EQ(read_until(done_, has_all({"fine-job"})).count("fine-job"), 1u);
}

// Every outcome of a batch is produced while the broker is down, past
// message.timeout.ms: the outputs, retry records and dead letters all fail
// to deliver. Their inputs are read again and end as they should, once each
// at least: nothing is lost.
TEST_F(RetryPaths, ProduceFailuresOfRetriesAndDeadLettersLoseNothing) {
  spec_.stages[0].concurrency = 64;
  std::vector<std::string> fine, flaky, bad;
  for (int i = 0; i < 10; ++i) {
    std::string n = std::to_string(i);
    fine.push_back("fine-" + n);
    flaky.push_back("flaky-" + n);
    bad.push_back("bad-" + n);
    put(fine.back(), "ok", "k" + n);
    put(flaky.back(), "flaky", "k" + n);
    put(bad.back(), "bad", "k" + n);
  }
  start(/*jitter=*/0.0, {{"message.timeout.ms", "1000"}});
  stage_->close_gate();
  ASSERT_TRUE(testing::wait_until([&] { return stage_->held() == 30; }, seconds(30)))
      << "the stage holds " << stage_->held() << " of 30 tasks";
  broker_->set_down(1, true);
  stage_->open_gate();
  // Down past message.timeout.ms, so that every produce of the batch fails.
  std::this_thread::sleep_for(milliseconds(2500));
  broker_->set_down(1, false);

  std::vector<std::string> ok_jobs = fine;
  ok_jobs.insert(ok_jobs.end(), flaky.begin(), flaky.end());
  auto done = read_until(done_, has_all(ok_jobs));
  auto letters = read_until(dlq_, has_all(bad));
  EXPECT_TRUE(has_all(ok_jobs)(done)) << done.size() << " of 20 jobs reached done";
  EXPECT_TRUE(has_all(bad)(letters)) << letters.size() << " of 10 jobs were dead-lettered";
  for (const std::string& job : bad) EXPECT_EQ(done.count(job), 0u) << job;
  for (const std::string& job : ok_jobs) EXPECT_EQ(letters.count(job), 0u) << job;
  size_t calls = stage_->calls().size();
  EXPECT_GT(calls, 40u) << "no task ran again: the fault did not happen";
  std::printf("measured: %zu stage calls for 30 jobs (40 without the fault)\n", calls);
}

}  // namespace
}  // namespace sluice
