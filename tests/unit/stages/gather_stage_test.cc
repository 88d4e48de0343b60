// builtin gather, driven with an in-memory state (MapState) and a fake clock:
// parts join in index order whatever order they come in, a part that comes
// twice is dropped, and a tick past the timeout dead-letters the partial set
// naming what is missing.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "builtin_stages.h"
#include "stage_test_util.h"

namespace sluice::stages {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::MapState;

class GatherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stage_ = make_gather_stage_with_clock([this] { return now_; });
    StageContext context;
    context.spec.name = "join";
    context.spec.state = true;
    context.spec.gather.timeout = milliseconds(30000);
    ASSERT_TRUE(stage_->init(context).is_ok());
    ASSERT_TRUE(stage_->wakes());
  }

  // Part `index` of `count` of group "split-1" (job "job-1", key "k").
  Outcome part(uint32_t index, uint32_t count, const std::string& payload) {
    Task task = testing::json_task("t" + std::to_string(index), payload);
    task.job_id = "job-1";
    task.key = "k";
    task.part = TaskPart{"split-1", index, count};
    return run(task);
  }

  Outcome tick() {
    Task task;
    task.id = "tick";
    task.job_id = "sluice-tick";
    task.tick = true;
    return run(task);
  }

  Outcome run(Task& task) {
    task.state = &state_;
    std::optional<Outcome> result;
    stage_->process(task, [&](Outcome o) { result = std::move(o); });
    return result.value_or(Outcome::retry("missing", "no outcome"));
  }

  std::chrono::system_clock::time_point now_{milliseconds(1'700'000'000'000)};
  MapState state_;
  std::unique_ptr<Stage> stage_;
};

bool kept(const Outcome& o) {
  return o.kind == OutcomeKind::kOk && o.outputs.empty() && o.dead_letters.empty();
}

TEST_F(GatherTest, PartsJoinInIndexOrderWhateverOrderTheyCameIn) {
  Outcome first = part(2, 3, R"({"n":2})");
  EXPECT_TRUE(kept(first));
  EXPECT_EQ(first.wake_after, milliseconds(30000)) << "the group's timeout is asked for";
  EXPECT_TRUE(kept(part(0, 3, R"({"n": 0})")));
  Outcome last = part(1, 3, R"({"n":1})");
  ASSERT_EQ(last.kind, OutcomeKind::kOk);
  ASSERT_EQ(last.outputs.size(), 1u);
  EXPECT_EQ(last.outputs[0].payload, R"({"parts":[{"n": 0},{"n":1},{"n":2}]})");
  EXPECT_EQ(last.outputs[0].content_type, kJsonContentType);
  EXPECT_TRUE(last.ends_fan_out);
  EXPECT_TRUE(state_.partition_values.empty()) << "a joined group leaves nothing behind";
}

TEST_F(GatherTest, APartThatComesTwiceIsDropped) {
  EXPECT_TRUE(kept(part(0, 2, R"({"n":0})")));
  EXPECT_TRUE(kept(part(0, 2, R"({"n":0,"again":true})")));
  Outcome last = part(1, 2, R"({"n":1})");
  ASSERT_EQ(last.outputs.size(), 1u);
  EXPECT_EQ(last.outputs[0].payload, R"({"parts":[{"n":0},{"n":1}]})");
}

TEST_F(GatherTest, ATaskThatIsNoPartIsAGroupOfOne) {
  Task task = testing::json_task("t", R"({"n":7})");
  Outcome out = run(task);
  ASSERT_EQ(out.outputs.size(), 1u);
  EXPECT_EQ(out.outputs[0].payload, R"({"parts":[{"n":7}]})");
}

TEST_F(GatherTest, APartThatCannotBeIsDeadLettered) {
  Outcome out = part(3, 3, R"({})");
  EXPECT_EQ(out.kind, OutcomeKind::kFail);
  EXPECT_EQ(out.error, "stage join: part 3 of 3 cannot be");
  EXPECT_TRUE(kept(part(0, 3, R"({})")));
  Outcome other_count = part(1, 4, R"({})");
  EXPECT_EQ(other_count.kind, OutcomeKind::kFail);
  EXPECT_EQ(other_count.error, "stage join: part 1 of group split-1 says 4 parts, its group 3");
}

TEST_F(GatherTest, ATickBeforeTheTimeoutSendsNothingAndAsksAgainForTheRest) {
  EXPECT_TRUE(kept(part(0, 2, R"({})")));
  now_ += milliseconds(10000);
  Outcome early = tick();
  EXPECT_TRUE(kept(early));
  EXPECT_EQ(early.wake_after, milliseconds(20000));
}

TEST_F(GatherTest, ATickPastTheTimeoutDeadLettersThePartialSetNamingTheMissingParts) {
  EXPECT_TRUE(kept(part(0, 4, R"({"n":0})")));
  EXPECT_TRUE(kept(part(2, 4, R"({"n":2})")));
  now_ += milliseconds(30000);
  Outcome due = tick();
  ASSERT_EQ(due.kind, OutcomeKind::kOk);
  EXPECT_TRUE(due.outputs.empty());
  EXPECT_FALSE(due.wake_after.has_value()) << "no group is left to wait for";
  ASSERT_EQ(due.dead_letters.size(), 1u);
  const Outcome::DeadLetter& letter = due.dead_letters[0];
  EXPECT_EQ(letter.job_id, "job-1");
  EXPECT_EQ(letter.key, "k");
  EXPECT_EQ(letter.error_kind, "gather_timeout");
  EXPECT_EQ(letter.error, "stage join: 2 of 4 parts of group split-1 arrived within 30000 ms; "
                          "missing parts 1, 3");
  EXPECT_EQ(json::parse(letter.payload),
            json::parse(R"({"group":"split-1","count":4,"missing":[1,3],
                            "parts":{"0":{"n":0},"2":{"n":2}}})"));
  EXPECT_TRUE(state_.partition_values.empty());

  // A part that comes after its group timed out starts a new one.
  Outcome late = part(1, 4, R"({"n":1})");
  EXPECT_TRUE(kept(late));
  EXPECT_EQ(late.wake_after, milliseconds(30000));
}

TEST_F(GatherTest, ATickDeadLettersTheOldestGroupsFirstAndAsksAgainForTheNext) {
  for (int group = 0; group < 3; ++group) {
    Task task = testing::json_task("t", "{}");
    task.job_id = "job-" + std::to_string(group);
    task.part = TaskPart{"g" + std::to_string(group), 0, 2};
    EXPECT_TRUE(kept(run(task)));
    now_ += milliseconds(1000);
  }
  now_ += milliseconds(28000);  // 30 s after the second group's first part
  Outcome due = tick();
  ASSERT_EQ(due.dead_letters.size(), 2u);
  EXPECT_EQ(due.dead_letters[0].job_id, "job-0");
  EXPECT_EQ(due.dead_letters[1].job_id, "job-1");
  EXPECT_EQ(due.wake_after, milliseconds(1000)) << "the third group's deadline";
}

TEST_F(GatherTest, NeedsTheStagesStateAndATimeout) {
  auto made = make_gather_stage();
  StageContext context;
  context.spec.name = "join";
  context.spec.gather.timeout = milliseconds(1000);
  EXPECT_EQ(made->init(context).message(),
            "stage join: builtin gather keeps the parts it gathers in the stage's state; set "
            "`state: true`");
}

}  // namespace
}  // namespace sluice::stages
