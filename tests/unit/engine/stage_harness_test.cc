// The stage harness (tests/support/stage_harness.h) driving small in-test
// stages: a synchronous one, one that completes from its own thread, and a
// few that break the rules.
#include "stage_harness.h"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sluice::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

topics::StageSpec spec_named(std::string name) {
  topics::StageSpec spec;
  spec.name = std::move(name);
  return spec;
}

Outcome uppercased(const Task& task) {
  Output output;
  output.payload = upper(task.payload);
  return Outcome::ok({output});
}

class UppercaseStage : public SyncStage {
 public:
  Outcome process_sync(const Task& task) override {
    return uppercased(task);
  }
};

// What a stage saw, kept outside the stage (the harness owns the stage).
struct Probe {
  std::mutex mutex;
  StageContext context;
  bool closed = false;
  std::thread::id completed_on;
  std::vector<Completion> held;  // completions a stage kept for later
};

class RecordingStage : public Stage {
 public:
  explicit RecordingStage(std::shared_ptr<Probe> probe, Status init_status = Status::ok())
      : probe_(std::move(probe)), init_status_(std::move(init_status)) {}
  Status init(const StageContext& context) override {
    probe_->context = context;
    return init_status_;
  }
  void process(const Task& task, Completion done) override { done(Outcome::ok({})); }
  Status close() override {
    probe_->closed = true;
    return Status::ok();
  }

 private:
  std::shared_ptr<Probe> probe_;
  Status init_status_;
};

// Uppercases on its own thread. Completes `batch` tasks at a time, newest
// first, so completions arrive out of submission order.
class AsyncUppercaseStage : public Stage {
 public:
  AsyncUppercaseStage(std::shared_ptr<Probe> probe, size_t batch)
      : probe_(std::move(probe)), batch_(batch) {}
  ~AsyncUppercaseStage() override { stop(); }

  Status init(const StageContext&) override {
    thread_ = std::thread([this] { loop(); });
    return Status::ok();
  }
  void process(const Task& task, Completion done) override {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(std::move(task), std::move(done));
    }
    wake_.notify_one();
  }
  Status close() override {
    stop();
    return Status::ok();
  }

 private:
  using Item = std::pair<Task, Completion>;

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || queue_.size() >= batch_; });
      if (queue_.size() < batch_) return;  // stopping; the rest are abandoned
      std::vector<Item> items(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.begin() + batch_));
      queue_.erase(queue_.begin(), queue_.begin() + batch_);
      lock.unlock();
      for (auto it = items.rbegin(); it != items.rend(); ++it) complete(*it);
      lock.lock();
    }
  }
  void complete(Item& item) {
    probe_->completed_on = std::this_thread::get_id();
    item.second(uppercased(item.first));
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  std::shared_ptr<Probe> probe_;
  size_t batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// Keeps every completion in the probe instead of calling it.
class HoldingStage : public Stage {
 public:
  explicit HoldingStage(std::shared_ptr<Probe> probe) : probe_(std::move(probe)) {}
  void process(const Task& task, Completion done) override {
    std::lock_guard lock(probe_->mutex);
    probe_->held.push_back(std::move(done));
  }

 private:
  std::shared_ptr<Probe> probe_;
};

class ThrowingStage : public Stage {
 public:
  void process(const Task& task, Completion done) override {
    throw std::runtime_error("model unavailable");
  }
};

class CompletesTwiceStage : public Stage {
 public:
  void process(const Task& task, Completion done) override {
    done(Outcome::ok({}));
    done(Outcome::fail("error", "second call"));
  }
};

std::vector<std::string> payloads(const Outcome& outcome) {
  std::vector<std::string> result;
  for (const Output& output : outcome.outputs) result.push_back(output.payload);
  return result;
}

TEST(StageHarness, RunReturnsTheOutcomeOfASyncStage) {
  StageHarness harness(std::make_unique<UppercaseStage>(), spec_named("shout"));
  ASSERT_TRUE(harness.init().is_ok());

  Result<Outcome> outcome = harness.run(json_task(R"("hello")"));

  ASSERT_TRUE(outcome.is_ok()) << outcome.status().to_string();
  EXPECT_EQ(outcome->kind, OutcomeKind::kOk);
  EXPECT_THAT(payloads(*outcome), ElementsAre(R"("HELLO")"));
}

TEST(StageHarness, InitGivesTheStageItsPipelineAndSpec) {
  auto probe = std::make_shared<Probe>();
  topics::StageSpec spec = spec_named("shout");
  spec.concurrency = 8;
  StageHarness harness(std::make_unique<RecordingStage>(probe), spec, {.pipeline = "articles"});

  ASSERT_TRUE(harness.init().is_ok());

  EXPECT_EQ(probe->context.pipeline, "articles");
  EXPECT_EQ(probe->context.spec.name, "shout");
  EXPECT_EQ(probe->context.spec.concurrency, 8);
}

TEST(StageHarness, InitReportsTheStageInitFailure) {
  auto probe = std::make_shared<Probe>();
  StageHarness harness(std::make_unique<RecordingStage>(probe, usage_error("no model configured")),
                       spec_named("s"));

  Status status = harness.init();

  EXPECT_EQ(status.code(), StatusCode::kUsage);
  EXPECT_EQ(status.message(), "no model configured");
}

TEST(StageHarness, CloseClosesTheStage) {
  auto probe = std::make_shared<Probe>();
  StageHarness harness(std::make_unique<RecordingStage>(probe), spec_named("s"));
  ASSERT_TRUE(harness.init().is_ok());

  EXPECT_TRUE(harness.close().is_ok());
  EXPECT_TRUE(probe->closed);
}

TEST(StageHarness, DestructorClosesAStageTheTestDidNotClose) {
  auto probe = std::make_shared<Probe>();
  {
    StageHarness harness(std::make_unique<RecordingStage>(probe), spec_named("s"));
    ASSERT_TRUE(harness.init().is_ok());
  }
  EXPECT_TRUE(probe->closed);
}

TEST(StageHarness, RunReturnsAnOutcomeCompletedFromAnotherThread) {
  auto probe = std::make_shared<Probe>();
  StageHarness harness(std::make_unique<AsyncUppercaseStage>(probe, 1), spec_named("s"));
  ASSERT_TRUE(harness.init().is_ok());

  Result<Outcome> outcome = harness.run(json_task(R"({"a":"b"})"));

  ASSERT_TRUE(outcome.is_ok()) << outcome.status().to_string();
  EXPECT_THAT(payloads(*outcome), ElementsAre(R"({"A":"B"})"));
  EXPECT_NE(probe->completed_on, std::thread::id());
  EXPECT_NE(probe->completed_on, std::this_thread::get_id());
  EXPECT_TRUE(harness.close().is_ok());
}

TEST(StageHarness, WaitMatchesOutOfOrderCompletionsToTheirTasks) {
  auto probe = std::make_shared<Probe>();
  StageHarness harness(std::make_unique<AsyncUppercaseStage>(probe, 3), spec_named("s"));
  ASSERT_TRUE(harness.init().is_ok());

  auto first = harness.submit(json_task(R"("one")"));
  auto second = harness.submit(json_task(R"("two")"));
  auto third = harness.submit(json_task(R"("three")"));

  EXPECT_THAT(payloads(*harness.wait(first)), ElementsAre(R"("ONE")"));
  EXPECT_THAT(payloads(*harness.wait(second)), ElementsAre(R"("TWO")"));
  EXPECT_THAT(payloads(*harness.wait(third)), ElementsAre(R"("THREE")"));
}

TEST(StageHarness, WaitReportsATaskThatMissesItsDeadline) {
  auto probe = std::make_shared<Probe>();
  StageHarness harness(std::make_unique<HoldingStage>(probe), spec_named("s"),
                       {.deadline = std::chrono::milliseconds(20)});
  ASSERT_TRUE(harness.init().is_ok());

  Result<Outcome> outcome = harness.run(json_task("{}"));

  ASSERT_FALSE(outcome.is_ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kTransient);
  EXPECT_THAT(outcome.status().message(), HasSubstr("did not complete"));
}

TEST(StageHarness, ACompletionAfterTheDeadlineIsStillCollected) {
  auto probe = std::make_shared<Probe>();
  StageHarness harness(std::make_unique<HoldingStage>(probe), spec_named("s"),
                       {.deadline = std::chrono::milliseconds(20)});
  ASSERT_TRUE(harness.init().is_ok());
  auto ticket = harness.submit(json_task("{}"));
  ASSERT_FALSE(harness.wait(ticket).is_ok());

  std::thread([&] { probe->held.at(0)(Outcome::fail("error", "late")); }).join();

  Result<Outcome> outcome = harness.wait(ticket);
  ASSERT_TRUE(outcome.is_ok());
  EXPECT_EQ(outcome->kind, OutcomeKind::kFail);
}

TEST(StageHarness, ACompletionAfterTheHarnessIsGoneIsHarmless) {
  auto probe = std::make_shared<Probe>();
  {
    StageHarness harness(std::make_unique<HoldingStage>(probe), spec_named("s"));
    ASSERT_TRUE(harness.init().is_ok());
    (void)harness.submit(json_task("{}"));
  }
  ASSERT_EQ(probe->held.size(), 1u);

  probe->held.at(0)(Outcome::ok({}));  // must not touch freed memory (ASan)
}

TEST(StageHarness, AnExceptionFromProcessBecomesARetry) {
  StageHarness harness(std::make_unique<ThrowingStage>(), spec_named("s"));
  ASSERT_TRUE(harness.init().is_ok());

  Result<Outcome> outcome = harness.run(json_task("{}"));

  ASSERT_TRUE(outcome.is_ok());
  EXPECT_EQ(outcome->kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome->error_kind, "exception");
  EXPECT_EQ(outcome->error, "model unavailable");
}

TEST(StageHarness, AStageCompletingATaskTwiceFailsTheTest) {
  StageHarness harness(std::make_unique<CompletesTwiceStage>(), spec_named("s"));
  ASSERT_TRUE(harness.init().is_ok());

  EXPECT_NONFATAL_FAILURE((void)harness.run(json_task("{}")), "more than once");
}

TEST(StageHarness, TheFirstOfTwoCompletionsIsTheOutcome) {
  StageHarness harness(std::make_unique<CompletesTwiceStage>(), spec_named("s"));
  ASSERT_TRUE(harness.init().is_ok());
  Task task = json_task("{}");

  Result<Outcome> outcome(Outcome{});
  EXPECT_NONFATAL_FAILURE(outcome = harness.run(task), "more than once");

  ASSERT_TRUE(outcome.is_ok());
  EXPECT_EQ(outcome->kind, OutcomeKind::kOk);
}

TEST(StageHarness, JsonTaskIsAFirstAttemptWithFreshIds) {
  Task a = json_task(R"({"x":1})", "user-1");
  Task b = json_task(R"({"x":1})");

  EXPECT_EQ(a.content_type, kJsonContentType);
  EXPECT_EQ(a.payload, R"({"x":1})");
  EXPECT_EQ(a.key, "user-1");
  EXPECT_EQ(a.attempt, 1u);
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.job_id, b.job_id);
}

}  // namespace
}  // namespace sluice::testing
