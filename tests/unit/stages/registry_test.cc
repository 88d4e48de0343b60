#include "sluice/stages/registry.h"

#include <gtest/gtest.h>

#include "builtin_stages.h"

namespace sluice::stages {
namespace {

topics::StageSpec builtin_spec(const std::string& builtin) {
  topics::StageSpec spec;
  spec.name = "s1";
  spec.kind = topics::StageKind::kBuiltin;
  spec.builtin = builtin;
  return spec;
}

TEST(Registry, KnowsTheStandardBuiltins) {
  auto names = builtin_names();
  for (const char* name : {"passthrough", "tag", "uppercase", "word-count", "count", "dedupe", "gather"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

TEST(Registry, MakesAStandardBuiltinByName) {
  auto stage = make_stage(builtin_spec("passthrough"));
  ASSERT_TRUE(stage.is_ok()) << stage.status().to_string();
  EXPECT_NE(stage.value(), nullptr);
}

TEST(Registry, UnknownBuiltinIsAUsageErrorListingTheKnownOnes) {
  auto stage = make_stage(builtin_spec("nope"));
  ASSERT_FALSE(stage.is_ok());
  EXPECT_EQ(stage.status().code(), StatusCode::kUsage);
  EXPECT_NE(stage.status().message().find("stage s1"), std::string::npos);
  EXPECT_NE(stage.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(stage.status().message().find("(known: count, dedupe, gather, "), std::string::npos);
  EXPECT_NE(stage.status().message().find(", word-count"), std::string::npos);
}

TEST(Registry, CheckBuiltinsBlamesTheBuiltinLineAndSuggestsTheClosestName) {
  auto spec = topics::parse_spec(
      "pipeline: p\nstages:\n  - name: count\n    kind: builtin\n    builtin: wordcount\n",
      "p.yaml");
  ASSERT_TRUE(spec.is_ok()) << spec.status().to_string();
  Status checked = check_builtins(*spec);
  EXPECT_EQ(checked.code(), StatusCode::kUsage);
  EXPECT_EQ(checked.message(),
            "p.yaml:5: stages[0].builtin: unknown builtin 'wordcount' (did you mean 'word-count'?)");
  spec->stages[0].builtin = "word-count";
  EXPECT_TRUE(check_builtins(*spec).is_ok());
}

TEST(Registry, HttpKindMakesAStage) {
  topics::StageSpec spec = builtin_spec("");
  spec.kind = topics::StageKind::kHttp;
  spec.http.url = "http://127.0.0.1:1/";
  auto stage = make_stage(spec);
  ASSERT_TRUE(stage.is_ok()) << stage.status().to_string();
  EXPECT_NE(stage->get(), nullptr);
}

TEST(Registry, HttpKindWithoutUrlIsAUsageError) {
  topics::StageSpec spec = builtin_spec("");
  spec.kind = topics::StageKind::kHttp;
  auto stage = make_stage(spec);
  ASSERT_FALSE(stage.is_ok());
  EXPECT_EQ(stage.status().code(), StatusCode::kUsage);
  EXPECT_EQ(stage.status().message(), "stage s1: kind http needs a url");
}

TEST(Registry, ExecKindWithoutCommandIsAUsageError) {
  topics::StageSpec spec = builtin_spec("");
  spec.kind = topics::StageKind::kExec;
  auto stage = make_stage(spec);
  ASSERT_FALSE(stage.is_ok());
  EXPECT_EQ(stage.status().code(), StatusCode::kUsage);
}

TEST(Registry, ExecKindWithCommandMakesAStage) {
  topics::StageSpec spec = builtin_spec("");
  spec.kind = topics::StageKind::kExec;
  spec.command = {"cat"};
  auto stage = make_stage(spec);
  ASSERT_TRUE(stage.is_ok()) << stage.status().to_string();
  EXPECT_TRUE(stage.value()->close().is_ok()) << "closing a stage never initialised is fine";
}

TEST(Registry, UserBuiltinCanBeRegisteredAndMade) {
  // The registry is process-wide: a fresh name per run keeps --gtest_repeat honest.
  static int run = 0;
  std::string name = "registry-test-custom-" + std::to_string(++run);
  ASSERT_TRUE(register_builtin(name, make_passthrough_stage).is_ok());
  EXPECT_TRUE(make_stage(builtin_spec(name)).is_ok());
}

TEST(Registry, RegisteringATakenNameIsRefused) {
  Status st = register_builtin("passthrough", make_passthrough_stage);
  EXPECT_EQ(st.code(), StatusCode::kUsage);
}

}  // namespace
}  // namespace sluice::stages
