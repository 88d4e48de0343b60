// A stage that fails: its task is retried up to max_attempts, then
// dead-lettered as it came, with its whole error history; a stage that
// refuses a task dead-letters it at once. On the mock cluster: what is
// tested is the worker's handling of outcomes, not the broker's durability.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "embedded_pipeline.h"
#include "envelope.pb.h"
#include "raw_producer.h"
#include "sluice/embedded_broker.h"
#include "sluice/stage.h"
#include "sluice/topic_reader.h"
#include "sluice/topics/names.h"
#include "sluice/worker.h"

namespace sluice {
namespace {

constexpr const char* kSpec = R"(pipeline: failures
kafka: {brokers: embedded}
defaults:
  partitions: 2
  concurrency: 4
  retry: {max_attempts: 3, backoff: 10ms, max_backoff: 40ms}
stages:
  - {name: judge, kind: builtin, builtin: passthrough}
)";

// Fails payload "flaky" (retryable) and refuses "bad"; passes the rest on.
class JudgeStage final : public SyncStage {
 public:
  Outcome process_sync(const Task& task) override {
    if (task.payload == "flaky") return Outcome::retry("error", "flaky as ever");
    if (task.payload == "bad") return Outcome::fail("invalid_input", "bad payload");
    Outcome outcome;
    outcome.outputs.emplace_back().payload = task.payload;
    return outcome;
  }
};

// An envelope as an upstream stage would have written it, one failure in
// its history already.
std::string upstream_envelope(const std::string& job, const std::string& payload) {
  v1::Envelope e;
  e.set_job_id(job);
  e.set_task_id(job + "-task");
  e.set_correlation_id(job + "-correlation");
  e.set_pipeline("failures");
  e.set_destination_stage("judge");
  e.set_source_stage("upstream");
  e.set_attempt(1);
  e.set_content_type("text/plain");
  e.set_payload(payload);
  e.set_key(job + "-key");
  (*e.mutable_headers())["trace"] = job + "-trace";
  v1::ErrorRecord* earlier = e.add_errors();
  earlier->set_stage("upstream");
  earlier->set_attempt(1);
  earlier->set_kind("timeout");
  earlier->set_message("took too long");
  return e.SerializeAsString();
}

class StageFailures : public testing::EmbeddedPipelineTest {
 protected:
  void SetUp() override {
    start_pipeline(kSpec, "failures.yaml");
  }

  void put(const std::string& job, const std::string& payload) {
    std::string topic = topics::intake_topic(spec_.pipeline);
    testing::produce_raw(kafka_.bootstrap, topic, job + "-key", upstream_envelope(job, payload));
  }

  // Runs the stage until `count` records were read from `topic` (or 30 s
  // passed); returns them by job id.
  std::map<std::string, TopicRecord> run_until(const std::string& topic, size_t count) {
    std::map<std::string, TopicRecord> records;
    WorkerOptions options{spec_, "judge", kafka_};
    auto worker = Worker::create(std::move(options), std::make_unique<JudgeStage>());
    auto reader = TopicReader::create(kafka_, topic, true);
    if (!worker.is_ok() || !reader.is_ok()) {
      ADD_FAILURE() << worker.status().message() << reader.status().message();
      return records;
    }
    std::atomic<bool> stop{false};
    Status run_status;
    std::thread runner([&] { run_status = (*worker)->run(stop); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (records.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto record = (*reader)->next(std::chrono::milliseconds(200));
      if (!record.is_ok()) {
        ADD_FAILURE() << record.status().message();
        break;
      }
      if (record->has_value()) records[(*record)->job_id] = **record;
    }
    stop = true;
    runner.join();
    EXPECT_TRUE(run_status.is_ok()) << run_status.message();
    return records;
  }

};

TEST_F(StageFailures, ARetriedTaskIsDeadLetteredAfterMaxAttemptsWithItsWholeHistory) {
  put("flaky-job", "flaky");

  auto letters = run_until(topics::dlq_topic(spec_.pipeline, "judge"), 1);

  ASSERT_EQ(letters.count("flaky-job"), 1u);
  const TopicRecord& letter = letters["flaky-job"];
  EXPECT_EQ(letter.payload, "flaky");
  EXPECT_EQ(letter.task_id, "flaky-job-task");
  EXPECT_EQ(letter.key, "flaky-job-key");
  EXPECT_EQ(letter.attempt, 3u);
  EXPECT_EQ(letter.headers.at("trace"), "flaky-job-trace");
  // retry.mode topic: the last attempt was read from the retry topic.
  EXPECT_EQ(letter.origin_topic, topics::retry_topic(spec_.pipeline, "judge"));
  EXPECT_EQ(letter.record_headers.at("sluice-error"), "gave up after 3 attempts: flaky as ever");
  EXPECT_EQ(letter.record_headers.at("sluice-error-kind"), "error");
  EXPECT_EQ(letter.record_headers.at("sluice-stage"), "judge");
  EXPECT_EQ(letter.record_headers.at("sluice-attempts"), "3");
  EXPECT_EQ(letter.record_headers.at("sluice-origin"),
            letter.origin_topic + "[" + std::to_string(letter.origin_partition) + "]@" +
                std::to_string(letter.origin_offset));
  EXPECT_EQ(letter.record_headers.at("sluice-job-id"), "flaky-job");
  ASSERT_EQ(letter.errors.size(), 4u);
  EXPECT_EQ(letter.errors[0].stage, "upstream");
  EXPECT_EQ(letter.errors[0].kind, "timeout");
  for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
    EXPECT_EQ(letter.errors[attempt].stage, "judge");
    EXPECT_EQ(letter.errors[attempt].attempt, attempt);
  }
  EXPECT_EQ(letter.errors[1].message, "flaky as ever");
  EXPECT_EQ(letter.errors[3].message, "gave up after 3 attempts: flaky as ever");
}

// retry.mode in_place: the attempts run from memory; the letter's origin is
// the input record itself.
TEST_F(StageFailures, InPlaceRetriesDeadLetterFromTheInputWithTheSameHistory) {
  spec_.stages[0].retry.mode = topics::RetryMode::kInPlace;
  put("flaky-job", "flaky");

  auto letters = run_until(topics::dlq_topic(spec_.pipeline, "judge"), 1);

  ASSERT_EQ(letters.count("flaky-job"), 1u);
  const TopicRecord& letter = letters["flaky-job"];
  EXPECT_EQ(letter.attempt, 3u);
  EXPECT_EQ(letter.origin_topic, topics::intake_topic(spec_.pipeline));
  ASSERT_EQ(letter.errors.size(), 4u);
  for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
    EXPECT_EQ(letter.errors[attempt].attempt, attempt);
  }
}

TEST_F(StageFailures, ARefusedTaskIsDeadLetteredAtOnceAndOthersFlowOn) {
  put("bad-job", "bad");
  put("good-job", "good");

  auto letters = run_until(topics::dlq_topic(spec_.pipeline, "judge"), 1);
  auto done = run_until(topics::done_topic(spec_.pipeline), 1);

  ASSERT_EQ(letters.count("bad-job"), 1u);
  EXPECT_EQ(letters["bad-job"].attempt, 1u);
  ASSERT_EQ(letters["bad-job"].errors.size(), 2u);
  EXPECT_EQ(letters["bad-job"].errors[1].kind, "invalid_input");
  ASSERT_EQ(done.count("good-job"), 1u);
  EXPECT_EQ(done["good-job"].payload, "good");
  EXPECT_EQ(done["good-job"].parent_task_id, "good-job-task");
  EXPECT_EQ(done["good-job"].key, "good-job-key");
  EXPECT_EQ(done["good-job"].headers.at("trace"), "good-job-trace");
}

// The worker decodes inputs without reading their error history; when that
// history is itself unreadable (invalid UTF-8 in a nested error record), the
// dead letter keeps everything the task was decoded from.
TEST_F(StageFailures, ADeadLetterOfAnInputWithAnUnreadableHistoryKeepsTheTask) {
  v1::Envelope e;
  ASSERT_TRUE(e.ParseFromString(upstream_envelope("odd-job", "bad")));
  e.mutable_errors(0)->set_message("not UTF-8: \xff\xfe");
  std::string bytes;
  google::protobuf::LogSilencer quiet;  // it warns about the invalid UTF-8 it writes
  ASSERT_TRUE(e.SerializeToString(&bytes));
  testing::produce_raw(kafka_.bootstrap, topics::intake_topic(spec_.pipeline), "odd-job-key",
                       bytes);

  auto letters = run_until(topics::dlq_topic(spec_.pipeline, "judge"), 1);

  ASSERT_EQ(letters.count("odd-job"), 1u);
  const TopicRecord& letter = letters["odd-job"];
  EXPECT_EQ(letter.payload, "bad");
  EXPECT_EQ(letter.task_id, "odd-job-task");
  EXPECT_EQ(letter.key, "odd-job-key");
  EXPECT_EQ(letter.headers.at("trace"), "odd-job-trace");
  ASSERT_EQ(letter.errors.size(), 1u);  // the unreadable history is gone
  EXPECT_EQ(letter.errors[0].kind, "invalid_input");
}

}  // namespace
}  // namespace sluice
