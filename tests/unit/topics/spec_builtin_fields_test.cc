// The maps of builtins dedupe and gather: read, required for their builtin,
// refused elsewhere, and only with `state: true`. Each refusal is the exact
// one line a user sees.
#include <gtest/gtest.h>

#include <string>

#include "sluice/topics/spec.h"
#include "spec_test_util.h"

namespace sluice::topics {
namespace {

using testing::refusal;

// One stage `a` running builtin `builtin`, with `extra` added to its flow map.
std::string stage(const std::string& builtin, const std::string& extra) {
  return "pipeline: p\nstages:\n  - {name: a, kind: builtin, builtin: " + builtin + extra +
         "}\n";
}

StageSpec stage_of(const std::string& yaml) {
  Result<PipelineSpec> spec = parse_spec(yaml, testing::kFile);
  EXPECT_TRUE(spec.is_ok()) << spec.status().message();
  return spec.is_ok() ? spec->stages.at(0) : StageSpec{};
}

TEST(DedupeField, ReadsWindowAndField) {
  StageSpec s = stage_of(stage("dedupe", ", state: true, dedupe: {window: 10m, field: order}"));
  EXPECT_EQ(s.dedupe.window, Millis(600000));
  EXPECT_EQ(s.dedupe.field, "order");
}

TEST(DedupeField, FieldDefaultsToEmptyMeaningTheJobId) {
  const std::string yaml = R"(pipeline: p
defaults:
  state: true
stages:
  - name: a
    kind: builtin
    dedupe:
      window: 1s
    builtin: dedupe
)";
  StageSpec s = stage_of(yaml);
  EXPECT_EQ(s.dedupe.window, Millis(1000));
  EXPECT_EQ(s.dedupe.field, "");
}

TEST(DedupeField, IsRequiredForBuiltinDedupe) {
  EXPECT_EQ(refusal(stage("dedupe", ", state: true")),
            "p.yaml:3: stages[0].dedupe: missing: builtin dedupe needs one: "
            "dedupe: {window: DURATION}");
}

TEST(DedupeField, RefusesAMissingWindow) {
  EXPECT_EQ(refusal(stage("dedupe", ", state: true, dedupe: {field: order}")),
            "p.yaml:3: stages[0].dedupe.window: missing: how long a job's identity is "
            "remembered, e.g. window: 10m");
}

TEST(DedupeField, RefusesAWindowUnderOneSecondOnItsLine) {
  const std::string yaml = R"(pipeline: p
stages:
  - name: a
    kind: builtin
    builtin: dedupe
    state: true
    dedupe:
      field: order
      window: 500ms
)";
  EXPECT_EQ(refusal(yaml), "p.yaml:9: stages[0].dedupe.window: must be at least 1s, got 500ms");
}

TEST(DedupeField, RefusesAWindowThatIsNotADuration) {
  EXPECT_EQ(refusal(stage("dedupe", ", state: true, dedupe: {window: 10}")),
            "p.yaml:3: stages[0].dedupe.window: bad duration '10': unit must be ms, s, m or h");
}

TEST(DedupeField, RefusesAnEmptyField) {
  EXPECT_EQ(refusal(stage("dedupe", ", state: true, dedupe: {window: 1m, field: ''}")),
            "p.yaml:3: stages[0].dedupe.field: must not be empty");
}

TEST(DedupeField, RefusesAnUnknownKeyWithHint) {
  EXPECT_EQ(refusal(stage("dedupe", ", state: true, dedupe: {windw: 1m}")),
            "p.yaml:3: stages[0].dedupe.windw: unknown field (did you mean 'window'?)");
}

TEST(DedupeField, RefusesAScalar) {
  EXPECT_EQ(refusal(stage("dedupe", ", state: true, dedupe: 1m")),
            "p.yaml:3: stages[0].dedupe: expected a map, got a single value");
}

TEST(DedupeField, NeedsState) {
  EXPECT_EQ(refusal(stage("dedupe", ", dedupe: {window: 1m}")),
            "p.yaml:3: stages[0].dedupe: builtin dedupe remembers the jobs it has seen in the "
            "stage's state; set `state: true`");
}

TEST(DedupeField, IsRefusedOnAnotherBuiltin) {
  EXPECT_EQ(refusal(stage("passthrough", ", state: true, dedupe: {window: 1m}")),
            "p.yaml:3: stages[0].dedupe: only for builtin: dedupe (this stage is builtin: "
            "passthrough)");
}

TEST(DedupeField, IsRefusedOnAnExecStage) {
  const std::string yaml = R"(pipeline: p
stages:
  - name: a
    kind: exec
    command: [x]
    dedupe: {window: 1m}
)";
  EXPECT_EQ(refusal(yaml), "p.yaml:6: stages[0].dedupe: only for builtin: dedupe (this stage "
                           "is kind exec)");
}

TEST(DedupeField, IsNotASetting) {
  EXPECT_EQ(refusal("pipeline: p\ndefaults:\n  dedupe: {window: 1m}\n" +
                    stage("dedupe", ", state: true").substr(12)),
            "p.yaml:3: defaults.dedupe: unknown field");
}

TEST(GatherField, ReadsTimeout) {
  EXPECT_EQ(stage_of(stage("gather", ", state: true, guarantee: exactly_once, gather: {timeout: "
                           "250ms}"))
                .gather.timeout,
            Millis(250));
}

TEST(GatherField, NeedsExactlyOnce) {
  EXPECT_EQ(refusal(stage("gather", ", state: true, gather: {timeout: 5s}")),
            "p.yaml:3: stages[0].gather: builtin gather needs guarantee: exactly_once (a "
            "timed-out set's dead letter must commit with the removal of its parts)");
}

TEST(GatherField, IsRequiredForBuiltinGather) {
  EXPECT_EQ(refusal(stage("gather", ", state: true")),
            "p.yaml:3: stages[0].gather: missing: builtin gather needs one: "
            "gather: {timeout: DURATION}");
}

TEST(GatherField, RefusesAMissingTimeout) {
  EXPECT_EQ(refusal(stage("gather", ", state: true, gather: {}")),
            "p.yaml:3: stages[0].gather.timeout: missing: how long it waits for what it "
            "gathers, e.g. timeout: 30s");
}

TEST(GatherField, RefusesAZeroTimeout) {
  EXPECT_EQ(refusal(stage("gather", ", state: true, gather: {timeout: 0ms}")),
            "p.yaml:3: stages[0].gather.timeout: must be at least 1ms, got 0ms");
}

TEST(GatherField, NeedsState) {
  EXPECT_EQ(refusal(stage("gather", ", gather: {timeout: 5s}")),
            "p.yaml:3: stages[0].gather: builtin gather keeps what it gathers in the stage's "
            "state; set `state: true`");
}

TEST(GatherField, IsRefusedOnAnyOtherStage) {
  EXPECT_EQ(refusal(stage("dedupe", ", state: true, dedupe: {window: 1m}, gather: {timeout: 5s}")),
            "p.yaml:3: stages[0].gather: only for builtin: gather (this stage is builtin: "
            "dedupe)");
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: http, http: {url: http://h/}, "
                    "gather: {timeout: 5s}}\n"),
            "p.yaml:3: stages[0].gather: only for builtin: gather (this stage is kind http)");
}

}  // namespace
}  // namespace sluice::topics
