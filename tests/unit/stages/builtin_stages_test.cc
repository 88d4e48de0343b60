#include "builtin_stages.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "stage_test_util.h"

namespace sluice::stages {
namespace {

using nlohmann::json;
using testing::json_task;
using testing::MapState;

// Runs one task through a freshly initialised stage named `name`.
Outcome run(std::unique_ptr<Stage> stage, const Task& task, const std::string& name = "s1") {
  StageContext context;
  context.pipeline = "p";
  context.spec.name = name;
  EXPECT_TRUE(stage->init(context).is_ok());
  std::optional<Outcome> result;
  stage->process(task, [&](Outcome o) { result = std::move(o); });
  EXPECT_TRUE(result.has_value()) << "builtins complete synchronously";
  EXPECT_TRUE(stage->close().is_ok());
  return result.value_or(Outcome::retry("missing", ""));
}

json only_payload(const Outcome& outcome) {
  EXPECT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  EXPECT_EQ(outcome.outputs.size(), 1u);
  if (outcome.outputs.size() != 1) return nullptr;
  EXPECT_EQ(outcome.outputs[0].content_type, kJsonContentType);
  return json::parse(outcome.outputs[0].payload);
}

TEST(Passthrough, EmitsOneOutputWithThePayloadUnchanged) {
  Task task = json_task("t1", std::string("\x01not json", 9));
  task.content_type = "application/octet-stream";
  Outcome outcome = run(make_passthrough_stage(), task);
  ASSERT_EQ(outcome.kind, OutcomeKind::kOk);
  ASSERT_EQ(outcome.outputs.size(), 1u);
  EXPECT_EQ(outcome.outputs[0].payload, task.payload);
  EXPECT_FALSE(outcome.outputs[0].key.has_value());
  EXPECT_EQ(outcome.outputs[0].to, "");
  EXPECT_EQ(outcome.outputs[0].content_type, "") << "empty: same as the input";
}

TEST(Tag, CreatesTheStagesArrayWithTheStageName) {
  json out = only_payload(run(make_tag_stage(), json_task("t1", R"({"n":1})"), "enrich"));
  EXPECT_EQ(out, json({{"n", 1}, {"stages", {"enrich"}}}));
}

TEST(Tag, AppendsToAnExistingStagesArray) {
  json out = only_payload(run(make_tag_stage(), json_task("t1", R"({"stages":["a"]})"), "b"));
  EXPECT_EQ(out["stages"], json({"a", "b"}));
}

// Issue 7, item 11: the builtins stored json.dump() of the parsed payload.
TEST(Tag, KeepsTheJobsBytesBigNumbersAndKeyOrder) {
  std::string payload = R"({"z":1, "big":123456789012345678901234567890,"a":[1.10]})";
  Outcome outcome = run(make_tag_stage(), json_task("t1", payload), "enrich");
  ASSERT_EQ(outcome.outputs.size(), 1u) << outcome.error;
  EXPECT_EQ(outcome.outputs[0].payload,
            R"({"z":1, "big":123456789012345678901234567890,"a":[1.10],"stages":["enrich"]})");
}

TEST(Uppercase, RewritesOnlyTheTextField) {
  std::string payload = R"({"text": "hi", "id": 98765432109876543210})";
  Outcome outcome = run(make_uppercase_stage(), json_task("t1", payload));
  ASSERT_EQ(outcome.outputs.size(), 1u) << outcome.error;
  EXPECT_EQ(outcome.outputs[0].payload, R"({"text": "HI", "id": 98765432109876543210})");
}

TEST(Tag, PayloadThatIsNotJsonFailsAsInvalidInput) {
  Outcome outcome = run(make_tag_stage(), json_task("t1", "not json"));
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error_kind, "invalid_input");
}

TEST(Tag, PayloadThatIsNotAnObjectFailsAsInvalidInput) {
  Outcome outcome = run(make_tag_stage(), json_task("t1", "[1,2]"));
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error_kind, "invalid_input");
  EXPECT_NE(outcome.error.find("not a JSON object"), std::string::npos);
}

TEST(Tag, StagesFieldThatIsNotAnArrayFailsAsInvalidInput) {
  Outcome outcome = run(make_tag_stage(), json_task("t1", R"({"stages":"x"})"));
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error_kind, "invalid_input");
}

TEST(Uppercase, UppercasesTheTextField) {
  json out =
      only_payload(run(make_uppercase_stage(), json_task("t1", R"({"text":"Hello, wörld"})")));
  EXPECT_EQ(out["text"], "HELLO, WöRLD");
}

TEST(Uppercase, MissingTextFailsAsInvalidInput) {
  EXPECT_EQ(run(make_uppercase_stage(), json_task("t1", R"({"txt":"a"})")).kind,
            OutcomeKind::kFail);
}

TEST(WordCount, CountsWhitespaceSeparatedWords) {
  json out = only_payload(
      run(make_word_count_stage(), json_task("t1", R"({"text":"  one two\tthree\n"})")));
  EXPECT_EQ(out["words"], 3);
  EXPECT_EQ(out["text"], "  one two\tthree\n");
}

TEST(WordCount, EmptyTextHasZeroWords) {
  EXPECT_EQ(only_payload(run(make_word_count_stage(), json_task("t1", R"({"text":""})")))["words"],
            0);
}

}  // namespace
}  // namespace sluice::stages

namespace sluice::stages {
namespace {

// The state a worker would give a task: in memory, writes applied at once.
std::unique_ptr<Stage> stateful_count_stage() {
  auto stage = make_count_stage();
  StageContext context;
  context.spec.name = "counts";
  context.spec.state = true;
  EXPECT_TRUE(stage->init(context).is_ok());
  return stage;
}

// A task of key `key` with payload `payload`, run with `state`.
Outcome process(Stage& stage, const std::string& key, const std::string& payload,
                StageState* state) {
  Task task = json_task("t-" + key, payload);
  task.key = key;
  task.state = state;
  std::optional<Outcome> result;
  stage.process(task, [&](Outcome o) { result = std::move(o); });
  return result.value_or(Outcome::retry("missing", ""));
}

TEST(Count, EachTaskOfAKeyCarriesItsRunningCount) {
  auto stage = stateful_count_stage();
  MapState alice, bob;  // one key's state each
  for (int n = 1; n <= 3; ++n) {
    json out = only_payload(process(*stage, "alice", R"({"n":1})", &alice));
    EXPECT_EQ(out, json({{"n", 1}, {"count", n}}));
  }
  json out = only_payload(process(*stage, "bob", R"({})", &bob));
  EXPECT_EQ(out["count"], 1);
  EXPECT_EQ(alice.values[std::string(kKeyStateName)], "3");
}

TEST(Count, RefusesToRunWithoutState) {
  auto stage = make_count_stage();
  StageContext context;
  context.spec.name = "counts";
  Status s = stage->init(context);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  EXPECT_EQ(s.message(), "stage counts: builtin count keeps its counts in the stage's state; "
                         "set `state: true`");
}

TEST(Count, AStateThatIsNotACountDeadLettersTheTask) {
  auto stage = stateful_count_stage();
  MapState state;
  state.values[std::string(kKeyStateName)] = R"({"history":[]})";
  Outcome outcome = process(*stage, "k", R"({})", &state);
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error_kind, "bad_state");
  EXPECT_EQ(state.values[std::string(kKeyStateName)], R"({"history":[]})");
}

}  // namespace
}  // namespace sluice::stages
