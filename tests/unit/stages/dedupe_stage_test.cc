// builtin dedupe, driven with an in-memory state (MapState) and a fake clock.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "builtin_stages.h"
#include "stage_test_util.h"

namespace sluice::stages {
namespace {

using std::chrono::milliseconds;
using testing::MapState;

class DedupeTest : public ::testing::Test {
 protected:
  // A stage named "once" with dedupe: {window: 3s, field: `field`}.
  std::unique_ptr<Stage> stage(const std::string& field = "") {
    auto made = make_dedupe_stage_with_clock([this] { return now_; });
    StageContext context;
    context.pipeline = "p";
    context.spec.name = "once";
    context.spec.state = true;
    context.spec.dedupe = {milliseconds(3000), field};
    EXPECT_TRUE(made->init(context).is_ok());
    return made;
  }

  // Task `task_id` of job `job_id`, run with `state_`.
  Outcome run(Stage& s, const std::string& task_id, const std::string& job_id,
              const std::string& payload = R"({"n":1})") {
    Task task = testing::json_task(task_id, payload);
    task.job_id = job_id;
    task.state = &state_;
    std::optional<Outcome> result;
    s.process(task, [&](Outcome o) { result = std::move(o); });
    return result.value_or(Outcome::retry("missing", "no outcome"));
  }

  size_t entries(const std::string& prefix) const {
    size_t n = 0;
    for (const auto& [name, value] : state_.partition_values) n += name.starts_with(prefix);
    return n;
  }

  std::chrono::system_clock::time_point now_{milliseconds(1'700'000'000'000)};
  MapState state_;
};

bool passed(const Outcome& o, const std::string& payload = R"({"n":1})") {
  return o.kind == OutcomeKind::kOk && o.outputs.size() == 1 && o.outputs[0].payload == payload &&
         o.outputs[0].content_type.empty() && !o.outputs[0].key && o.outputs[0].to.empty();
}

bool dropped(const Outcome& o) { return o.kind == OutcomeKind::kOk && o.outputs.empty(); }

TEST_F(DedupeTest, AJobSeenForTheFirstTimePassesUnchangedAndIsRemembered) {
  auto s = stage();
  EXPECT_TRUE(passed(run(*s, "t1", "job-a", R"({"raw" :  [1, 2]})"), R"({"raw" :  [1, 2]})"));
  EXPECT_EQ(state_.partition_values.at("seen/job-a"), "1700000000000 t1");
  EXPECT_EQ(entries("exp/"), 1u);
  EXPECT_TRUE(state_.values.empty()) << "dedupe keeps partition-wide state only";
}

TEST_F(DedupeTest, ARepeatWithinTheWindowIsDroppedWithNoOutputs) {
  auto s = stage();
  EXPECT_TRUE(passed(run(*s, "t1", "job-a")));
  now_ += milliseconds(2999);
  EXPECT_TRUE(dropped(run(*s, "t2", "job-a")));
  EXPECT_TRUE(passed(run(*s, "t3", "job-b")));
}

TEST_F(DedupeTest, AfterTheWindowAJobPassesAgainAndStartsANewWindow) {
  auto s = stage();
  EXPECT_TRUE(passed(run(*s, "t1", "job-a")));
  now_ += milliseconds(3000);
  EXPECT_TRUE(passed(run(*s, "t2", "job-a")));
  EXPECT_EQ(entries("exp/"), 1u) << "the first pass left the index";
  now_ += milliseconds(2000);
  EXPECT_TRUE(dropped(run(*s, "t3", "job-a")));
}

TEST_F(DedupeTest, ADropIsLoggedAtDebugLevel) {
  testing::LogCapture logs;
  spdlog::default_logger()->set_level(spdlog::level::debug);
  auto s = stage("order");
  EXPECT_TRUE(passed(run(*s, "t1", "job-1", R"({"order":"A"})"), R"({"order":"A"})"));
  now_ += milliseconds(5);
  EXPECT_TRUE(dropped(run(*s, "t2", "job-2", R"({"order":"A"})")));
  EXPECT_EQ(logs.sink().find("dropped").value_or("(none)"),
            "stage once: dropped task t2 of job job-2: \"A\" passed 5 ms ago (task t1)");
}

TEST_F(DedupeTest, ADropDoesNotExtendTheWindow) {
  auto s = stage();
  EXPECT_TRUE(passed(run(*s, "t1", "job-a")));
  now_ += milliseconds(2000);
  EXPECT_TRUE(dropped(run(*s, "t2", "job-a")));
  now_ += milliseconds(1000);
  EXPECT_TRUE(passed(run(*s, "t3", "job-a")));
}

TEST_F(DedupeTest, TheSameTaskRunAgainPassesAgainRatherThanBeingLost) {
  auto s = stage();
  EXPECT_TRUE(passed(run(*s, "t1", "job-a")));
  EXPECT_TRUE(passed(run(*s, "t1", "job-a")));
  EXPECT_EQ(state_.partition_values.at("seen/job-a"), "1700000000000 t1");
}

TEST_F(DedupeTest, WithAFieldJobsAreComparedByItsJsonValue) {
  auto s = stage("order");
  EXPECT_TRUE(passed(run(*s, "t1", "job-1", R"({"order":"A"})"), R"({"order":"A"})"));
  EXPECT_TRUE(dropped(run(*s, "t2", "job-2", R"({"n":2, "order": "A"})")));
  EXPECT_TRUE(passed(run(*s, "t3", "job-3", R"({"order":"B"})"), R"({"order":"B"})"));
  EXPECT_TRUE(passed(run(*s, "t4", "job-4", R"({"order":1})"), R"({"order":1})"));
  EXPECT_TRUE(passed(run(*s, "t5", "job-5", R"({"order":"1"})"), R"({"order":"1"})"));
  EXPECT_TRUE(state_.partition_values.contains("seen/\"A\""));
  EXPECT_TRUE(state_.partition_values.contains("seen/1"));
}

TEST_F(DedupeTest, APayloadWithoutTheFieldIsDeadLettered) {
  auto s = stage("order");
  Outcome o = run(*s, "t1", "job-1", R"({"n":1})");
  EXPECT_EQ(o.kind, OutcomeKind::kFail);
  EXPECT_EQ(o.error_kind, "invalid_input");
  EXPECT_EQ(o.error, "stage once: payload has no field 'order' (dedupe.field)");
  EXPECT_TRUE(state_.partition_values.empty());
}

TEST_F(DedupeTest, APayloadThatIsNotAnObjectIsDeadLetteredWhenAFieldIsSet) {
  auto s = stage("order");
  Outcome o = run(*s, "t1", "job-1", R"(["order"])");
  EXPECT_EQ(o.kind, OutcomeKind::kFail);
  EXPECT_EQ(o.error_kind, "invalid_input");
  EXPECT_EQ(o.error, "stage once: payload is not a JSON object, so it has no field 'order' "
                     "(dedupe.field)");
  auto by_job_id = stage();
  EXPECT_TRUE(passed(run(*by_job_id, "t2", "job-2", "not json"), "not json"))
      << "without a field the payload is not parsed";
}

TEST_F(DedupeTest, EachTaskDeletesAtMostSixteenExpiredEntriesOldestFirst) {
  auto s = stage();
  for (int i = 0; i < 40; ++i) {
    EXPECT_TRUE(passed(run(*s, "old" + std::to_string(i), "job-old" + std::to_string(i))));
    now_ += milliseconds(1);
  }
  now_ += milliseconds(3000);  // every one of them is past the window
  EXPECT_TRUE(passed(run(*s, "n1", "job-new1")));
  EXPECT_EQ(entries("exp/"), 40u - 16u + 1u);
  EXPECT_EQ(entries("seen/"), 40u - 16u + 1u);
  EXPECT_FALSE(state_.partition_values.contains("seen/job-old15"));
  EXPECT_TRUE(state_.partition_values.contains("seen/job-old16"));
  EXPECT_TRUE(passed(run(*s, "n2", "job-new2")));
  EXPECT_TRUE(passed(run(*s, "n3", "job-new3")));
  EXPECT_EQ(entries("exp/"), 3u) << "what is left is the window's worth";
  EXPECT_EQ(entries("seen/"), 3u);
}

TEST_F(DedupeTest, EntriesWithinTheWindowAreNotExpired) {
  auto s = stage();
  EXPECT_TRUE(passed(run(*s, "t1", "job-a")));
  now_ += milliseconds(2999);
  EXPECT_TRUE(passed(run(*s, "t2", "job-b")));
  EXPECT_EQ(entries("seen/"), 2u);
  now_ += milliseconds(1);
  EXPECT_TRUE(passed(run(*s, "t3", "job-c")));
  EXPECT_EQ(entries("seen/"), 2u);
  EXPECT_FALSE(state_.partition_values.contains("seen/job-a"));
}

TEST(Dedupe, RefusesToRunWithoutStateOrWindow) {
  StageContext context;
  context.spec.name = "once";
  context.spec.dedupe.window = milliseconds(1000);
  EXPECT_EQ(make_dedupe_stage()->init(context).message(),
            "stage once: builtin dedupe remembers the jobs it has seen in the stage's state; "
            "set `state: true`");
  context.spec.state = true;
  context.spec.dedupe.window = {};
  Status s = make_dedupe_stage()->init(context);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  EXPECT_EQ(s.message(),
            "stage once: builtin dedupe needs dedupe: {window: DURATION}, at least 1s");
}

}  // namespace
}  // namespace sluice::stages
