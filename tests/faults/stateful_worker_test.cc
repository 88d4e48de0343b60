// A stateful stage (builtin count, `state: true`) on the mock cluster: each
// key's running count is exact, its writes reach the changelog, and a
// worker started later, on its own clean checkpoint or on an empty state
// directory, goes on from the counts the first one left; `status` sees a
// restore while it runs; a state over its bound is refused. (Crashes and
// exactly_once need the real broker: tests/integration.)
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "embedded_pipeline.h"
#include "sluice/inspect.h"
#include "sluice/observer.h"
#include "sluice/stages/registry.h"
#include "sluice/submitter.h"
#include "sluice/topic_reader.h"
#include "sluice/topics/names.h"
#include "sluice/worker.h"
#include "test_dir.h"

// Slowed consumption (rd_kafka_consume_batch_queue is wrapped, -Wl,--wrap,
// tests/CMakeLists.txt): while set, each call waits 20 ms and hands out at
// most 2 messages, so that a restore of a few hundred records lasts seconds.
std::atomic<bool> slow_consumption{false};

extern "C" {
ssize_t __real_rd_kafka_consume_batch_queue(rd_kafka_queue_t* rkqu, int timeout_ms,
                                            rd_kafka_message_t** rkmessages, size_t rkmessages_size);

ssize_t __wrap_rd_kafka_consume_batch_queue(rd_kafka_queue_t* rkqu, int timeout_ms,
                                            rd_kafka_message_t** rkmessages, size_t rkmessages_size) {
  if (!slow_consumption.load()) {
    return __real_rd_kafka_consume_batch_queue(rkqu, timeout_ms, rkmessages, rkmessages_size);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return __real_rd_kafka_consume_batch_queue(rkqu, timeout_ms, rkmessages,
                                             std::min<size_t>(rkmessages_size, 2));
}
}

namespace sluice {
namespace {

constexpr int kKeys = 5;
constexpr const char* kSpec = R"(pipeline: counting
kafka: {brokers: embedded}
defaults: {partitions: 2, concurrency: 8}
stages:
  - {name: counts, kind: builtin, builtin: count, state: true, retry: {mode: in_place}}
)";

class RestoreCounter final : public WorkerObserver {
 public:
  void state_restored(size_t records, int64_t) override { restored += records; }
  std::atomic<size_t> restored{0};
};

class StatefulWorker : public testing::EmbeddedPipelineTest {
 protected:
  void SetUp() override {
    start_pipeline(kSpec, "counting.yaml");
    state_dir_ = testing::fresh_test_dir("sluice-stateful");
    auto reader = TopicReader::create(kafka_, topics::done_topic(spec_.pipeline), true);
    ASSERT_TRUE(reader.is_ok()) << reader.status().message();
    done_ = std::move(reader).value();
  }
  void TearDown() override { std::filesystem::remove_all(state_dir_); }

  // Jobs next..next+n, key k<job % keys>.
  void submit(int n, int keys = kKeys) {
    auto submitter = JobSubmitter::create(spec_, kafka_);
    ASSERT_TRUE(submitter.is_ok()) << submitter.status().message();
    for (int i = 0; i < n; ++i, ++submitted_) {
      Job job{"{\"n\":" + std::to_string(submitted_) + "}", "application/json",
              "k" + std::to_string(submitted_ % keys)};
      ASSERT_TRUE((*submitter)->submit(job).is_ok());
    }
    ASSERT_TRUE((*submitter)->flush(std::chrono::seconds(30)).is_ok());
  }

  // Runs a worker on `dir` until `outputs` more outputs were read from done,
  // then stops it cleanly. Returns how many changelog records it restored.
  size_t run_worker(const std::filesystem::path& dir, size_t outputs) {
    auto stage = stages::make_stage(*spec_.find_stage("counts"));
    EXPECT_TRUE(stage.is_ok()) << stage.status().message();
    if (!stage.is_ok()) return 0;
    RestoreCounter restores;
    WorkerOptions options{spec_, "counts", kafka_};
    options.commit_interval = std::chrono::milliseconds(200);
    options.state_dir = dir.string();
    options.observer = &restores;
    auto worker = Worker::create(std::move(options), std::move(stage).value());
    EXPECT_TRUE(worker.is_ok()) << worker.status().message();
    if (!worker.is_ok()) return 0;
    std::atomic<bool> stop{false};
    Status run_status;
    std::thread runner([&] { run_status = (*worker)->run(stop); });
    size_t target = counts_.size() + outputs;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (counts_.size() < target && std::chrono::steady_clock::now() < deadline) {
      auto record = done_->next(std::chrono::milliseconds(500));
      if (!record.is_ok()) {
        ADD_FAILURE() << record.status().message();
        break;
      }
      if (!record->has_value()) continue;
      auto payload = nlohmann::json::parse((*record)->payload);
      counts_.push_back({(*record)->key, payload.at("count").get<int64_t>()});
    }
    stop = true;
    runner.join();
    EXPECT_TRUE(run_status.is_ok()) << run_status.message();
    EXPECT_EQ(counts_.size(), target) << "outputs missing from done";
    return restores.restored.load();
  }

  // Records on the changelog (none compacted away on the embedded broker).
  int64_t changelog_records() {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", kafka_.bootstrap.c_str(), error, sizeof error);
    std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> client(
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error), &rd_kafka_destroy);
    EXPECT_NE(client, nullptr) << error;
    if (!client) return -1;
    std::string topic = topics::changelog_topic(spec_.pipeline, "counts");
    int64_t total = 0;
    for (int32_t partition = 0; partition < 2; ++partition) {
      int64_t low = 0, high = 0;
      EXPECT_EQ(rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), partition, &low,
                                                 &high, 10000),
                RD_KAFKA_RESP_ERR_NO_ERROR);
      total += high - low;
    }
    return total;
  }

  // Each key's counts, in the order done holds them, must be 1, 2, 3, ...
  void expect_exact_running_counts() {
    std::map<std::string, int64_t> last;
    for (const auto& [key, count] : counts_) {
      EXPECT_EQ(count, last[key] + 1) << "key " << key;
      last[key] = count;
    }
    int64_t total = 0;
    for (const auto& [key, count] : last) total += count;
    EXPECT_EQ(total, submitted_);
  }

  std::filesystem::path state_dir_;
  std::unique_ptr<TopicReader> done_;
  int submitted_ = 0;
  std::vector<std::pair<std::string, int64_t>> counts_;  // (key, count) as read from done
};

TEST_F(StatefulWorker, CountsAreExactAndARestartGoesOnFromItsCheckpoint) {
  submit(200);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(run_worker(state_dir_ / "a", 200), 0u) << "a new store has nothing to restore";
  ASSERT_FALSE(HasFatalFailure());

  // Closed cleanly: the same directory restores nothing (its checkpoint is
  // the changelog's end) and the counts go on.
  submit(100);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(run_worker(state_dir_ / "a", 100), 0u);
  expect_exact_running_counts();
}

TEST_F(StatefulWorker, AWorkerWithNoLocalStateRestoresItFromTheChangelog) {
  submit(200);
  ASSERT_FALSE(HasFatalFailure());
  run_worker(state_dir_ / "first", 200);
  ASSERT_FALSE(HasFatalFailure());

  // Another machine, say: an empty directory. Each of the kKeys keys was
  // written 40 times, and the changelog holds a key's latest value once per
  // flush (a commit, every 200 ms here: engine/src/changelog_cache.h), not
  // once per write.
  int64_t written = changelog_records();
  EXPECT_GE(written, kKeys);
  EXPECT_LT(written, 200);
  submit(100);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(run_worker(state_dir_ / "second", 100), static_cast<size_t>(written));
  expect_exact_running_counts();
}

// `sluice status` sees a restore while it runs (the workers report it to the
// stage's restore group, engine/src/restore_progress.h), and not after.
TEST_F(StatefulWorker, StatusShowsARestoreWhileItRunsAndNotOnceItIsDone) {
  submit(300, /*keys=*/300);  // a changelog record each, whatever the flushes
  ASSERT_FALSE(HasFatalFailure());
  run_worker(state_dir_ / "first", 300);
  ASSERT_FALSE(HasFatalFailure());
  auto inspector = Inspector::create(spec_, kafka_);
  ASSERT_TRUE(inspector.is_ok()) << inspector.status().message();
  auto counts_status = [&]() -> StageStatus {
    auto status = (*inspector)->status();
    EXPECT_TRUE(status.is_ok()) << status.status().message();
    return status.is_ok() ? status->stages.at(0) : StageStatus{};
  };
  EXPECT_EQ(counts_status().restoring_partitions, 0);

  // Another machine, an empty directory: all 300 changelog records to restore, slowly.
  slow_consumption = true;
  auto stage = stages::make_stage(*spec_.find_stage("counts"));
  ASSERT_TRUE(stage.is_ok());
  RestoreCounter restores;
  WorkerOptions options{spec_, "counts", kafka_};
  options.state_dir = (state_dir_ / "second").string();
  options.observer = &restores;
  auto worker = Worker::create(std::move(options), std::move(stage).value());
  ASSERT_TRUE(worker.is_ok()) << worker.status().message();
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread runner([&] { run_status = (*worker)->run(stop); });

  StageStatus during;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    during = counts_status();
    if (during.restoring_partitions > 0 && during.restore_records_left > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  size_t restored_then = restores.restored.load();
  slow_consumption = false;
  EXPECT_GT(during.restoring_partitions, 0) << "status never saw the restore";
  EXPECT_GT(during.restore_records_left, 0);
  EXPECT_LE(during.restore_records_left, 300);
  EXPECT_LT(restored_then, 300u) << "the restore was over before status saw it";

  StageStatus after = during;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    after = counts_status();
    if (restores.restored.load() == 300 && after.restoring_partitions == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop = true;
  runner.join();
  EXPECT_TRUE(run_status.is_ok()) << run_status.message();
  EXPECT_EQ(restores.restored.load(), 300u);
  EXPECT_EQ(after.restoring_partitions, 0);
  EXPECT_EQ(after.restore_records_left, 0);
}

// What an exec or http stage does with its key's state, in-process: it reads
// the key's state during process() and completes on another thread with
// Outcome::state_change, the state so far plus this task's "n". A task with
// "big" sets a state over the stage's max_state_bytes instead.
class HistoryStage final : public Stage {
 public:
  Status init(const StageContext&) override { return Status::ok(); }
  void process(const Task& task, Completion done) override {
    auto state = task.state->get(kKeyStateName);
    auto payload = nlohmann::json::parse(task.payload);
    std::string history = state.is_ok() && *state ? **state : "";
    std::string next = payload.value("big", false)
                           ? std::string(300 * 1024, 'x')
                           : history + "," + std::to_string(payload.at("n").get<int>());
    std::thread([history, next, done = std::move(done)]() mutable {
      Outcome outcome = Outcome::ok({{"{\"history\":\"" + history + "\"}", {}, "", ""}});
      outcome.state_change = Outcome::StateChange{next};
      done(std::move(outcome));
    }).detach();
  }
};

TEST_F(StatefulWorker, AStateOverTheBoundDeadLettersItsTaskAndLeavesTheStateAsItWas) {
  auto submitter = JobSubmitter::create(spec_, kafka_);
  ASSERT_TRUE(submitter.is_ok()) << submitter.status().message();
  for (const char* payload : {R"({"n":1})", R"({"n":2,"big":true})", R"({"n":3})"}) {
    ASSERT_TRUE((*submitter)->submit(Job{payload, "application/json", "k"}).is_ok());
  }
  ASSERT_TRUE((*submitter)->flush(std::chrono::seconds(30)).is_ok());

  WorkerOptions options{spec_, "counts", kafka_};
  options.state_dir = (state_dir_ / "history").string();
  auto worker = Worker::create(std::move(options), std::make_unique<HistoryStage>());
  ASSERT_TRUE(worker.is_ok()) << worker.status().message();
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread runner([&] { run_status = (*worker)->run(stop); });
  auto dlq = TopicReader::create(kafka_, topics::dlq_topic(spec_.pipeline, "counts"), true);
  ASSERT_TRUE(dlq.is_ok()) << dlq.status().message();

  std::vector<std::string> histories;
  std::vector<TopicRecord> letters;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((histories.size() < 2 || letters.empty()) && std::chrono::steady_clock::now() < deadline) {
    auto record = done_->next(std::chrono::milliseconds(100));
    ASSERT_TRUE(record.is_ok()) << record.status().message();
    if (record->has_value()) {
      histories.push_back(nlohmann::json::parse((*record)->payload).at("history"));
    }
    auto letter = (*dlq)->next(std::chrono::milliseconds(100));
    ASSERT_TRUE(letter.is_ok()) << letter.status().message();
    if (letter->has_value()) letters.push_back(std::move(**letter));
  }
  stop = true;
  runner.join();
  EXPECT_TRUE(run_status.is_ok()) << run_status.message();

  // The third task saw the first one's state: the second changed nothing.
  EXPECT_EQ(histories, (std::vector<std::string>{"", ",1"}));
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].payload, R"({"n":2,"big":true})");
  ASSERT_FALSE(letters[0].errors.empty());
  EXPECT_EQ(letters[0].errors.back().kind, "state_too_large");
  EXPECT_EQ(letters[0].errors.back().message,
            "stage counts: the state set for key k is 307203 bytes, over max_state_bytes 262144");
}

}  // namespace
}  // namespace sluice
