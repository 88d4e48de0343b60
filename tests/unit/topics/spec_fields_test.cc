// Field-level refusals beyond the headline ones in spec_loader_test.cc.
#include <gtest/gtest.h>

#include <utility>

#include "sluice/topics/spec.h"
#include "spec_test_util.h"

namespace sluice::topics {
namespace {

using testing::kFile;
using testing::refusal;

TEST(SpecFields, RefusesUnknownTopLevelField) {
  EXPECT_EQ(refusal("pipeline: p\ndefault:\n  partitions: 1\nstages: []\n"),
            "p.yaml:2: default: unknown field (did you mean 'defaults'?)");
}

TEST(SpecFields, RefusesUnknownFieldInsideRetry) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: a
    kind: builtin
    builtin: passthrough
    retry:
      attempts: 3
)"),
            "p.yaml:7: stages[0].retry.attempts: unknown field");
}

TEST(SpecFields, RefusesUnknownKafkaField) {
  EXPECT_EQ(refusal("pipeline: p\nkafka:\n  broker: x:9092\nstages: []\n"),
            "p.yaml:3: kafka.broker: unknown field (did you mean 'brokers'?)");
}

TEST(SpecFields, RefusesMissingPipeline) {
  EXPECT_EQ(refusal("stages:\n  - {name: a, kind: builtin, builtin: x}\n"),
            "p.yaml:1: pipeline: missing: name the pipeline ([a-z0-9-]+)");
}

TEST(SpecFields, RefusesEmptyDocument) {
  EXPECT_EQ(refusal(""), "p.yaml:1: pipeline: missing: name the pipeline ([a-z0-9-]+)");
}

TEST(SpecFields, RefusesEmptyStageList) {
  EXPECT_EQ(refusal("pipeline: p\nstages: []\n"),
            "p.yaml:2: stages: expected a non-empty list of stages");
}

TEST(SpecFields, RefusesPipelineNameWithDot) {
  EXPECT_EQ(refusal("pipeline: my.pipe\nstages:\n  - {name: a, kind: builtin, builtin: x}\n"),
            "p.yaml:1: pipeline: 'my.pipe' must match [a-z0-9-]+ ('_' and '.' collide in "
            "Kafka metric names)");
}

TEST(SpecFields, RefusesNameLongerThanHundredCharacters) {
  std::string yaml = "pipeline: " + std::string(101, 'a') +
                     "\nstages:\n  - {name: a, kind: builtin, builtin: x}\n";
  EXPECT_EQ(refusal(yaml), "p.yaml:1: pipeline: longer than 100 characters");
}

TEST(SpecFields, RefusesReservedStageName) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: done, kind: builtin, builtin: x}\n"),
            "p.yaml:3: stages[0].name: 'done' is reserved: its topic would be the "
            "pipeline's own .done topic");
}

TEST(SpecFields, RefusesFieldGivenTwice) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: a
    kind: builtin
    builtin: x
    timeout: 1s
    timeout: 2s
)"),
            "p.yaml:7: stages[0].timeout: given twice (also on line 6)");
}

TEST(SpecFields, RefusesUnknownKindWithHint) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: exe, command: [x]}\n"),
            "p.yaml:3: stages[0].kind: expected exec, http or builtin, got 'exe' "
            "(did you mean 'exec'?)");
}

TEST(SpecFields, RefusesMissingKind) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - name: a\n    builtin: x\n"),
            "p.yaml:3: stages[0].kind: missing: every stage needs one of exec, http, builtin");
}

TEST(SpecFields, RefusesEmptyCommand) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: exec, command: []}\n"),
            "p.yaml:3: stages[0].command: must list the program and its arguments");
}

TEST(SpecFields, RefusesCommandThatIsNotAList) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: exec, command: python3 x.py}\n"),
            "p.yaml:3: stages[0].command: expected a list, got a single value");
}

TEST(SpecFields, RefusesPartitionsOutOfRange) {
  EXPECT_EQ(refusal("pipeline: p\ndefaults: {partitions: 0}\nstages:\n"
                    "  - {name: a, kind: builtin, builtin: x}\n"),
            "p.yaml:2: defaults.partitions: must be between 1 and 10000, got 0");
}

TEST(SpecFields, RefusesConcurrencyThatIsNotAnInteger) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n"
                    "  - {name: a, kind: builtin, builtin: x, concurrency: 2.5}\n"),
            "p.yaml:3: stages[0].concurrency: expected an integer, got '2.5'");
}

TEST(SpecFields, RefusesHugeIntegerAsOutOfRange) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: builtin, builtin: x,\n"
                    "     replication: 99999999999999999999}\n"),
            "p.yaml:4: stages[0].replication: must be between 1 and 32767, got "
            "99999999999999999999");
}

TEST(SpecFields, RefusesUnknownGuarantee) {
  EXPECT_EQ(refusal("pipeline: p\ndefaults:\n  guarantee: at_most_once\nstages:\n"
                    "  - {name: a, kind: builtin, builtin: x}\n"),
            "p.yaml:3: defaults.guarantee: expected at_least_once or exactly_once, got "
            "'at_most_once' (did you mean 'at_least_once'?)");
}

TEST(SpecFields, RefusesStateThatIsNotBoolean) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: builtin, builtin: x, state: yes}\n"),
            "p.yaml:3: stages[0].state: expected true or false, got 'yes'");
}

TEST(SpecFields, RefusesZeroTimeout) {
  EXPECT_EQ(refusal("pipeline: p\ndefaults: {timeout: 0s}\nstages:\n"
                    "  - {name: a, kind: builtin, builtin: x}\n"),
            "p.yaml:2: defaults.timeout: must be at least 1ms, got 0s");
}

TEST(SpecFields, RefusesMaxAttemptsOfZero) {
  EXPECT_EQ(refusal("pipeline: p\ndefaults:\n  retry: {max_attempts: 0}\nstages:\n"
                    "  - {name: a, kind: builtin, builtin: x}\n"),
            "p.yaml:3: defaults.retry.max_attempts: must be between 1 and 1000, got 0");
}

TEST(SpecFields, BlamesStageBackoffAboveDefaultMaxBackoff) {
  EXPECT_EQ(refusal(R"(pipeline: p
defaults:
  retry: {max_backoff: 10s}
stages:
  - name: a
    kind: builtin
    builtin: x
    retry:
      backoff: 1m
)"),
            "p.yaml:9: stages[0].retry.backoff: backoff 1m exceeds max_backoff 10s");
}

TEST(SpecFields, BlamesLowWatermarkNotBelowHigh) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: a
    kind: builtin
    builtin: x
    backpressure: {low_watermark: 10000}
)"),
            "p.yaml:6: stages[0].backpressure.low_watermark: high_watermark 10000 must be "
            "greater than low_watermark 10000");
}

TEST(SpecFields, BlamesScaleMaxBelowMin) {
  EXPECT_EQ(refusal(R"(pipeline: p
defaults:
  scale: {min: 3}
stages:
  - name: a
    kind: builtin
    builtin: x
    scale: {max: 2}
)"),
            "p.yaml:8: stages[0].scale.max: scale.max 2 is below scale.min 3");
}

TEST(SpecFields, RefusesALagThresholdBelowOne) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: builtin, builtin: x, "
                    "lag_threshold: 0}\n"),
            "p.yaml:3: stages[0].lag_threshold: must be at least 1, got 0");
}

TEST(SpecFields, ReadsBufferBoundsOverTheDefaults) {
  auto spec = parse_spec(R"(pipeline: p
defaults: {max_buffered_tasks: 500}
stages:
  - {name: a, kind: builtin, builtin: x, max_buffered_bytes: 2097152}
  - {name: b, kind: builtin, builtin: x, next: [a]}
)",
                         kFile);
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  EXPECT_EQ(spec->find_stage("a")->max_buffered_tasks, 500);
  EXPECT_EQ(spec->find_stage("a")->max_buffered_bytes, 2097152);
  EXPECT_EQ(spec->find_stage("b")->max_buffered_bytes, 64 * 1024 * 1024);
}

TEST(SpecFields, RefusesABufferBelowOneMebibyte) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: builtin, builtin: x, "
                    "max_buffered_bytes: 1000}\n"),
            "p.yaml:3: stages[0].max_buffered_bytes: must be between 1048576 and 1073741824, "
            "got 1000");
}

// The tasks in flight are buffered: a smaller buffer would cap concurrency.
// The stage's own field is blamed over the default it breaks.
TEST(SpecFields, BlamesABufferSmallerThanConcurrency) {
  EXPECT_EQ(refusal(R"(pipeline: p
defaults:
  max_buffered_tasks: 50
stages:
  - name: a
    kind: builtin
    builtin: x
    concurrency: 64
)"),
            "p.yaml:8: stages[0].concurrency: max_buffered_tasks 50 is below concurrency 64 "
            "(the tasks in flight are buffered too)");
}

TEST(SpecFields, RefusesKafkaPropertyWithMapValue) {
  EXPECT_EQ(refusal("pipeline: p\nkafka:\n  properties:\n    ssl: {a: b}\nstages:\n"
                    "  - {name: a, kind: builtin, builtin: x}\n"),
            "p.yaml:4: kafka.properties.ssl: expected a single value, got a map");
}

TEST(SpecFields, TreatsEmptySectionsAsAbsent) {
  EXPECT_EQ(refusal("pipeline: p\nkafka:\ndefaults:\nstages:\n"
                    "  - {name: a, kind: builtin, builtin: x, next: []}\n"),
            "(accepted)");
}

TEST(SpecFields, RefusesSelfReferencingAlias) {
  EXPECT_EQ(refusal("pipeline: p\nkafka: &k {properties: *k}\nstages: []\n"),
            "p.yaml:2: yaml: nested too deeply (more than 64 levels; an alias inside itself?)");
}

// yaml-cpp gives up on its own at some depth (a DeepRecursion that says
// only "bad file"): what it means is said plainly, at the line it stopped.
TEST(SpecFields, RefusesNestingPastYamlCppsLimitSayingSo) {
  for (auto [open, close] : {std::pair{"[", "]"}, std::pair{"{a: ", "}"}}) {
    std::string yaml = "pipeline: p\nstages:\n  - ";
    for (int i = 0; i < 5000; ++i) yaml += open;
    for (int i = 0; i < 5000; ++i) yaml += close;
    EXPECT_EQ(refusal(yaml + "\n"), "p.yaml:3: yaml: nested too deeply (more than 64 levels)")
        << open;
  }
  std::string block = "pipeline: p\nstages:\n";
  for (int i = 0; i < 3000; ++i) block += std::string(2 + i, ' ') + "- \n";
  EXPECT_EQ(refusal(block), "p.yaml:501: yaml: nested too deeply (more than 64 levels)");
}

TEST(SpecFields, RefusesAliasBomb) {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'f'; ++c) {  // each level: ten copies of the one before
    std::string prev(1, static_cast<char>(c - 1));
    yaml += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) yaml += (i ? ", *" : "*") + prev;
    yaml += "]\n";
  }
  EXPECT_EQ(refusal(yaml), "p.yaml:1: yaml: more than 100000 nodes once aliases are expanded");
}

TEST(SpecFields, RefusesSecondDocument) {
  EXPECT_EQ(refusal("pipeline: p\n---\npipeline: q\n"),
            "p.yaml:3: yaml: expected one document, found 2");
}

// Issue 7, items 8 and 16: a stage's environment, and ${VAR} in values.
TEST(SpecFields, ReadsEnvInheritEnvAndMaxOutputsWithDefaultsMerged) {
  ::setenv("SLUICE_SPEC_TEST_TOKEN", "s3cret", 1);
  auto spec = parse_spec(R"(pipeline: p
kafka:
  properties:
    sasl.password: ${SLUICE_SPEC_TEST_TOKEN}
    note: "costs $$5"
defaults:
  env: {REGION: eu}
stages:
  - name: a
    kind: exec
    command: [agent]
    env: {TOKEN: "${SLUICE_SPEC_TEST_TOKEN}", MODE: fast}
    inherit_env: false
    max_outputs: 50
    max_state_bytes: 4096
    state_dir: /var/lib/sluice
    next: [b]
  - name: b
    kind: exec
    command: [agent]
)",
                         "p.yaml");
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  EXPECT_EQ(spec->kafka.properties.at("sasl.password"), "s3cret");
  EXPECT_EQ(spec->kafka.properties.at("note"), "costs $5");
  const StageSpec& a = spec->stages[0];
  EXPECT_EQ(a.env, (std::map<std::string, std::string>{
                       {"REGION", "eu"}, {"TOKEN", "s3cret"}, {"MODE", "fast"}}));
  EXPECT_FALSE(a.inherit_env);
  EXPECT_EQ(a.max_outputs, 50);
  EXPECT_EQ(a.max_state_bytes, 4096);
  EXPECT_EQ(a.state_dir, "/var/lib/sluice");
  const StageSpec& b = spec->stages[1];
  EXPECT_EQ(b.env, (std::map<std::string, std::string>{{"REGION", "eu"}}));
  EXPECT_TRUE(b.inherit_env);
  EXPECT_EQ(b.max_outputs, 1000);
  EXPECT_EQ(b.max_state_bytes, 256 * 1024);
  EXPECT_EQ(b.state_dir, "") << "the default: the user's data directory";
  EXPECT_TRUE(b.workdir.empty()) << "parse_spec has no file to resolve against";
}

TEST(SpecFields, RefusesAnUnsetVariable) {
  ::unsetenv("SLUICE_SPEC_TEST_UNSET");
  EXPECT_EQ(refusal("pipeline: p\nkafka:\n  properties:\n    sasl.password: ${SLUICE_SPEC_TEST_UNSET}\n"
                    "stages:\n  - {name: a, kind: builtin, builtin: x}\n"),
            "p.yaml:4: kafka.properties.sasl.password: ${SLUICE_SPEC_TEST_UNSET} is not set in "
            "the environment");
}

TEST(SpecFields, RefusesABadEnvName) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - name: a\n    kind: exec\n    command: [x]\n"
                    "    env: {1BAD: x}\n"),
            "p.yaml:6: stages[0].env.1BAD: not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
}

TEST(SpecFields, RefusesMaxOutputsOutOfRange) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - name: a\n    kind: exec\n    command: [x]\n"
                    "    max_outputs: 0\n"),
            "p.yaml:6: stages[0].max_outputs: must be between 1 and 100000, got 0");
}

TEST(SpecFields, RefusesMaxStateBytesOutOfRange) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: builtin, builtin: x, "
                    "max_state_bytes: 100}\n"),
            "p.yaml:3: stages[0].max_state_bytes: must be between 1024 and 67108864, got 100");
}

TEST(SpecFields, CommitIntervalIsAbsentUnlessSetAndAStageOverridesDefaults) {
  auto spec = parse_spec(R"(pipeline: p
defaults: {commit_interval: 250ms}
stages:
  - {name: a, kind: builtin, builtin: x, next: [b]}
  - {name: b, kind: builtin, builtin: x, commit_interval: 2s, guarantee: exactly_once}
)", "p.yaml");
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  EXPECT_EQ(spec->stages[0].commit_interval, Millis{250});
  EXPECT_EQ(spec->stages[1].commit_interval, Millis{2000});
  auto plain = parse_spec("pipeline: p\nstages:\n  - {name: a, kind: builtin, builtin: x}\n",
                          "p.yaml");
  ASSERT_TRUE(plain.is_ok()) << plain.status().message();
  EXPECT_FALSE(plain->stages[0].commit_interval.has_value());
}

TEST(SpecFields, RefusesCommitIntervalAboveFiveSecondsUnderExactlyOnce) {
  EXPECT_EQ(refusal(R"(pipeline: p
defaults: {commit_interval: 30s}
stages:
  - name: a
    kind: builtin
    builtin: x
    guarantee: exactly_once
)"),
            "p.yaml:7: stages[0].guarantee: commit_interval 30s is above 5s under exactly_once "
            "(a transaction stays open that long, and the broker aborts one open past "
            "transaction.timeout.ms, 10s by default)");
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - {name: a, kind: builtin, builtin: x, guarantee: exactly_once, commit_interval: 0ms}
)"),
            "p.yaml:3: stages[0].commit_interval: must be at least 1ms, got 0ms");
}

}  // namespace
}  // namespace sluice::topics
