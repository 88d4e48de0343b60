// Graph refusals beyond the headline ones in spec_loader_test.cc.
#include <gtest/gtest.h>

#include "sluice/topics/spec.h"
#include "spec_test_util.h"

namespace sluice::topics {
namespace {

using testing::refusal;

TEST(SpecGraph, RefusesStageNamingItselfInNext) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - {name: in, kind: builtin, builtin: x, next: [a]}
  - {name: a, kind: builtin, builtin: x, next: [a]}
)"),
            "p.yaml:4: stages[1].next: 'a' names the stage itself");
}

TEST(SpecGraph, RefusesNextEntryListedTwice) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - name: in
    kind: builtin
    builtin: x
    next:
      - a
      - a
  - {name: a, kind: builtin, builtin: x}
)"),
            "p.yaml:8: stages[0].next: 'a' is listed twice");
}

TEST(SpecGraph, RefusesCycleWithoutAnyEntryStageAsCycle) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - {name: a, kind: builtin, builtin: x, next: [b]}
  - {name: b, kind: builtin, builtin: x, next: [c]}
  - {name: c, kind: builtin, builtin: x, next: [a]}
)"),
            "p.yaml:5: stages[2].next: cycle: a -> b -> c -> a");
}

TEST(SpecGraph, AcceptsFanOutAndFanIn) {
  EXPECT_EQ(refusal(R"(pipeline: p
stages:
  - {name: in, kind: builtin, builtin: x, next: [left, right]}
  - {name: left, kind: builtin, builtin: x, next: [join]}
  - {name: right, kind: builtin, builtin: x, next: [join]}
  - {name: join, kind: builtin, builtin: x}
)"),
            "(accepted)");
}

TEST(SpecGraph, FindsEntryStageWhereverItSits) {
  Result<PipelineSpec> spec = parse_spec(R"(pipeline: p
stages:
  - {name: last, kind: builtin, builtin: x}
  - {name: first, kind: builtin, builtin: x, next: [last]}
)",
                                         "p.yaml");
  ASSERT_TRUE(spec.is_ok()) << spec.status().to_string();
  EXPECT_EQ(spec->entry_stage().name, "first");
}

TEST(SpecGraph, FindStageReturnsNullForUnknownName) {
  Result<PipelineSpec> spec =
      parse_spec("pipeline: p\nstages:\n  - {name: a, kind: builtin, builtin: x}\n", "p.yaml");
  ASSERT_TRUE(spec.is_ok()) << spec.status().to_string();
  EXPECT_EQ(spec->find_stage("a"), &spec->stages[0]);
  EXPECT_EQ(spec->find_stage("b"), nullptr);
}

TEST(SpecGraph, RequireStageNamesTheFileAndSuggestsTheClosestStage) {
  Result<PipelineSpec> spec = parse_spec(
      "pipeline: p\nstages:\n  - {name: fetch, kind: builtin, builtin: x, next: [summarize]}\n"
      "  - {name: summarize, kind: builtin, builtin: x}\n",
      "p.yaml");
  ASSERT_TRUE(spec.is_ok()) << spec.status().to_string();
  EXPECT_EQ(spec->require_stage("summarize").value(), &spec->stages[1]);
  Result<const StageSpec*> missing = spec->require_stage("sumarize");
  EXPECT_EQ(missing.status().code(), StatusCode::kUsage);
  EXPECT_EQ(missing.status().message(),
            "p.yaml: no stage named 'sumarize' (did you mean 'summarize'?)");
}

}  // namespace
}  // namespace sluice::topics
