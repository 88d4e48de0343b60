#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "sluice/topics/spec.h"
#include "spec_test_util.h"

namespace sluice::topics {
namespace {

using testing::refusal;

constexpr const char* kThreeStages = R"(pipeline: articles
kafka:
  brokers: embedded
  properties: {linger.ms: 5, enable.idempotence: true}
defaults:
  partitions: 3
  concurrency: 2
  timeout: 10s
  retry: {max_attempts: 3, backoff: 250ms, max_backoff: 1m}
  backpressure: {high_watermark: 500, low_watermark: 50}
stages:
  - name: fetch
    kind: exec
    command: [python3, fetch.py]
    concurrency: 16
    retry: {backoff: 2s}
    next: [summarize]
  - name: summarize
    kind: http
    http: {url: http://localhost:8080/summarize}
    state: true
    next: [publish]
  - name: publish
    kind: builtin
    builtin: passthrough
    guarantee: exactly_once
)";

PipelineSpec load_three_stages() {
  Result<PipelineSpec> spec = parse_spec(kThreeStages, "p.yaml");
  EXPECT_TRUE(spec.is_ok()) << spec.status().to_string();
  return spec.is_ok() ? *spec : PipelineSpec{};
}

TEST(SpecLoader, LoadsThreeStagesInFileOrder) {
  PipelineSpec spec = load_three_stages();
  EXPECT_EQ(spec.file, "p.yaml");
  EXPECT_EQ(spec.pipeline, "articles");
  ASSERT_EQ(spec.stages.size(), 3u);
  EXPECT_EQ(spec.stages[0].kind, StageKind::kExec);
  EXPECT_EQ(spec.stages[0].command, (std::vector<std::string>{"python3", "fetch.py"}));
  EXPECT_EQ(spec.stages[1].http.url, "http://localhost:8080/summarize");
  EXPECT_EQ(spec.stages[2].builtin, "passthrough");
  EXPECT_EQ(spec.entry_stage().name, "fetch");
}

TEST(SpecLoader, AppliesDefaultsToStagesThatDoNotOverride) {
  PipelineSpec spec = load_three_stages();
  const StageSpec& publish = spec.stages[2];
  EXPECT_EQ(publish.partitions, 3);
  EXPECT_EQ(publish.replication, 1);  // built-in: not in defaults either
  EXPECT_EQ(publish.concurrency, 2);
  EXPECT_EQ(publish.timeout, Millis{10000});
  EXPECT_EQ(publish.retry.max_attempts, 3);
  EXPECT_EQ(publish.backpressure.high_watermark, 500);
  EXPECT_FALSE(publish.state);
}

TEST(SpecLoader, HonoursStageOverrides) {
  PipelineSpec spec = load_three_stages();
  EXPECT_EQ(spec.stages[0].concurrency, 16);
  EXPECT_TRUE(spec.stages[1].state);
  EXPECT_EQ(spec.stages[2].guarantee, Guarantee::kExactlyOnce);
  EXPECT_EQ(spec.stages[1].guarantee, Guarantee::kAtLeastOnce);
}

TEST(SpecLoader, MergesRetryPerSubField) {
  PipelineSpec spec = load_three_stages();
  const RetryPolicy& retry = spec.stages[0].retry;
  EXPECT_EQ(retry.backoff, Millis{2000});       // the stage's
  EXPECT_EQ(retry.max_attempts, 3);             // from defaults
  EXPECT_EQ(retry.max_backoff, Millis{60000});  // from defaults
}

TEST(SpecLoader, PassesKafkaPropertiesOnAsStrings) {
  KafkaSpec kafka = load_three_stages().kafka;
  EXPECT_TRUE(kafka.embedded());
  EXPECT_EQ(kafka.properties.at("linger.ms"), "5");
  EXPECT_EQ(kafka.properties.at("enable.idempotence"), "true");
}

TEST(SpecLoader, RefusesUnknownFieldNamingLine) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: a
    kind: builtin
    builtin: passthrough
    concurreny: 4
)"),
            "p.yaml:6: stages[0].concurreny: unknown field (did you mean 'concurrency'?)");
}

TEST(SpecLoader, RefusesNextNamingNoStage) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: fetch
    kind: builtin
    builtin: passthrough
    next: [sumarize]
  - name: summarize
    kind: builtin
    builtin: passthrough
)"),
            "p.yaml:6: stages[0].next: 'sumarize' names no stage (did you mean 'summarize'?)");
}

TEST(SpecLoader, RefusesCycleNamingItsStagesAtTheClosingNext) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - {name: in, kind: builtin, builtin: passthrough, next: [a]}
  - {name: a, kind: builtin, builtin: passthrough, next: [b]}
  - name: b
    kind: builtin
    builtin: passthrough
    next:
      - a
)"),
            "p.yaml:9: stages[2].next: cycle: a -> b -> a");
}

TEST(SpecLoader, RefusesBadDurationNamingTheField) {
  EXPECT_EQ(refusal(R"(pipeline: p
defaults:
  retry:
    backoff: 1.5s
stages:
  - {name: a, kind: builtin, builtin: passthrough}
)"),
            "p.yaml:4: defaults.retry.backoff: bad duration '1.5s': unit must be ms, s, m or h");
}

TEST(SpecLoader, RefusesStageNameWithUnderscore) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - kind: builtin
    name: fetch_all
    builtin: passthrough
)"),
            "p.yaml:4: stages[0].name: 'fetch_all' must match [a-z0-9-]+ ('_' and '.' "
            "collide in Kafka metric names)");
}

TEST(SpecLoader, RefusesDuplicateStageNames) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - {name: a, kind: builtin, builtin: passthrough, next: [b]}
  - {name: b, kind: builtin, builtin: passthrough}
  - {name: a, kind: builtin, builtin: passthrough}
)"),
            "p.yaml:5: stages[2].name: duplicate stage name 'a' (also stages[0])");
}

TEST(SpecLoader, RefusesExecStageWithoutCommand) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: a
    kind: builtin
    builtin: passthrough
    next: [b]
  - name: b
    kind: exec
)"),
            "p.yaml:7: stages[1].command: missing: exec stages need one");
}

TEST(SpecLoader, RefusesFieldOfAnotherKind) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: a
    kind: builtin
    builtin: passthrough
    command: [echo]
)"),
            "p.yaml:6: stages[0].command: not allowed for kind builtin (only exec stages "
            "take it)");
}

TEST(SpecLoader, RefusesYamlSyntaxErrorWithItsLine) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: a
    next: [b, c
  - name: b
)"),
            "p.yaml:5: yaml: end of sequence flow not found");
}

TEST(SpecLoader, RefusesTwoEntryStagesListingThem) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - {name: a, kind: builtin, builtin: passthrough, next: [c]}
  - {name: b, kind: builtin, builtin: passthrough, next: [c]}
  - {name: c, kind: builtin, builtin: passthrough}
)"),
            "p.yaml:4: stages[1]: more than one entry stage: 'a', 'b' (no stage names them "
            "in next); exactly one may take the intake");
}

TEST(SpecLoader, LoadsSpecFileFromDisk) {
  std::string path = ::testing::TempDir() + "/sluice_spec_loader_test.yaml";
  std::ofstream(path) << kThreeStages;
  Result<PipelineSpec> spec = load_spec_file(path);
  std::remove(path.c_str());
  ASSERT_TRUE(spec.is_ok()) << spec.status().to_string();
  EXPECT_EQ(spec->file, path);
  EXPECT_EQ(spec->stages.size(), 3u);
}

TEST(SpecLoader, RefusesUnreadableFileWithReason) {
  Result<PipelineSpec> spec = load_spec_file("/nonexistent/p.yaml");
  ASSERT_FALSE(spec.is_ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kUsage);
  EXPECT_EQ(spec.status().message(),
            "cannot read spec /nonexistent/p.yaml: No such file or directory");
}

TEST(SpecLoader, NamesFileInErrorsFromDisk) {
  std::string path = ::testing::TempDir() + "/sluice_spec_loader_bad.yaml";
  std::ofstream(path) << "pipeline: p\nstagez: []\n";
  Result<PipelineSpec> spec = load_spec_file(path);
  std::remove(path.c_str());
  ASSERT_FALSE(spec.is_ok());
  EXPECT_EQ(spec.status().message(),
            path + ":2: stagez: unknown field (did you mean 'stages'?)");
}

}  // namespace
}  // namespace sluice::topics
