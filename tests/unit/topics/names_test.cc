#include <gtest/gtest.h>

#include "sluice/topics/names.h"

namespace sluice::topics {
namespace {

PipelineSpec fan_out_pipeline() {
  Result<PipelineSpec> spec = parse_spec(R"(pipeline: articles
stages:
  - {name: fetch, kind: builtin, builtin: x, next: [summarize, index]}
  - {name: summarize, kind: builtin, builtin: x, next: [publish]}
  - {name: index, kind: builtin, builtin: x}
  - {name: publish, kind: builtin, builtin: x}
)",
                                         "p.yaml");
  EXPECT_TRUE(spec.is_ok()) << spec.status().to_string();
  return spec.is_ok() ? *spec : PipelineSpec{};
}

TEST(Names, FollowTheDesignTopicTable) {
  EXPECT_EQ(intake_topic("articles"), "articles.intake");
  EXPECT_EQ(done_topic("articles"), "articles.done");
  EXPECT_EQ(stage_topic("articles", "fetch"), "articles.fetch");
  EXPECT_EQ(retry_topic("articles", "fetch"), "articles.fetch.retry");
  EXPECT_EQ(dlq_topic("articles", "fetch"), "articles.fetch.dlq");
  EXPECT_EQ(dlq_ledger_topic("articles", "fetch"), "articles.fetch.dlq.replayed");
  EXPECT_EQ(changelog_topic("articles", "fetch"), "articles.fetch.changelog");
}

TEST(Names, GroupIdIsPrefixedWithSluice) {
  EXPECT_EQ(group_id("articles", "fetch"), "sluice.articles.fetch");
}

TEST(Names, EntryStageReadsTheIntakeTopic) {
  PipelineSpec spec = fan_out_pipeline();
  EXPECT_EQ(input_topic(spec, spec.stages[0]), "articles.intake");
}

TEST(Names, OtherStagesReadTheirOwnTopic) {
  PipelineSpec spec = fan_out_pipeline();
  EXPECT_EQ(input_topic(spec, spec.stages[1]), "articles.summarize");
  EXPECT_EQ(input_topic(spec, spec.stages[3]), "articles.publish");
}

TEST(Names, OutputsGoToEveryNextStageInOrder) {
  PipelineSpec spec = fan_out_pipeline();
  EXPECT_EQ(output_topics(spec, spec.stages[0]),
            (std::vector<std::string>{"articles.summarize", "articles.index"}));
}

TEST(Names, OutputsOfAStageWithoutNextGoToDone) {
  PipelineSpec spec = fan_out_pipeline();
  EXPECT_EQ(output_topics(spec, spec.stages[2]), (std::vector<std::string>{"articles.done"}));
}

TEST(Names, ValidNamesAreLowercaseDigitsAndDashes) {
  EXPECT_TRUE(is_valid_name("fetch-2"));
  EXPECT_TRUE(is_valid_name(std::string(kMaxNameLength, 'a')));
}

TEST(Names, InvalidNamesAreRefused) {
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name("fetch_all"));
  EXPECT_FALSE(is_valid_name("fetch.all"));
  EXPECT_FALSE(is_valid_name("Fetch"));
  EXPECT_FALSE(is_valid_name(std::string(kMaxNameLength + 1, 'a')));
}

TEST(Names, IntakeAndDoneAreReservedStageNames) {
  EXPECT_TRUE(is_reserved_stage_name("intake"));
  EXPECT_TRUE(is_reserved_stage_name("done"));
  EXPECT_FALSE(is_reserved_stage_name("fetch"));
}

}  // namespace
}  // namespace sluice::topics
