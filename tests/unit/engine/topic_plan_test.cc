// plan_topics: README.md's topic table for a three-stage spec with one
// stateful stage. Pure: no Kafka.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sluice/admin.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;

topics::PipelineSpec three_stages() {
  Result<topics::PipelineSpec> spec = topics::parse_spec(R"(
pipeline: articles
defaults: {partitions: 6, replication: 3}
stages:
  - {name: fetch, kind: builtin, builtin: passthrough, partitions: 4, next: [summarize]}
  - {name: summarize, kind: builtin, builtin: passthrough, state: true, next: [publish]}
  - {name: publish, kind: builtin, builtin: passthrough, partitions: 8, replication: 1}
)",
                                                         "p.yaml");
  // The spec is a constant: failing to parse it is a bug in this file.
  SLUICE_CHECK(spec.is_ok(), spec.status().to_string());
  return spec.value();
}

// A copy: callers often pass a temporary plan.
TopicPlan find(const std::vector<TopicPlan>& plan, const std::string& name) {
  auto it = std::find_if(plan.begin(), plan.end(),
                         [&](const TopicPlan& t) { return t.name == name; });
  if (it == plan.end()) {
    ADD_FAILURE() << "no topic " << name << " in the plan";
    return {};
  }
  return *it;
}

TEST(TopicPlan, NamesEveryTopicOfTheDesignTableInStageOrder) {
  std::vector<std::string> names;
  for (const TopicPlan& t : plan_topics(three_stages())) names.push_back(t.name);

  EXPECT_THAT(names,
              ElementsAre("articles.intake", "articles.fetch.retry", "articles.fetch.dlq",
                          "articles.fetch.dlq.replayed", "articles.summarize",
                          "articles.summarize.retry", "articles.summarize.dlq",
                          "articles.summarize.dlq.replayed", "articles.summarize.changelog",
                          "articles.publish", "articles.publish.retry", "articles.publish.dlq",
                          "articles.publish.dlq.replayed", "articles.done"));
}

TEST(TopicPlan, IntakeTakesTheEntryStagesSettings) {
  TopicPlan intake = find(plan_topics(three_stages()), "articles.intake");

  EXPECT_EQ(intake.partitions, 4);
  EXPECT_EQ(intake.replication, 3);
  EXPECT_FALSE(intake.compacted);
}

TEST(TopicPlan, RetryAndDlqTakeTheirStagesSettings) {
  std::vector<TopicPlan> plan = plan_topics(three_stages());

  EXPECT_EQ(find(plan, "articles.publish.retry").partitions, 8);
  EXPECT_EQ(find(plan, "articles.publish.dlq").replication, 1);
  EXPECT_EQ(find(plan, "articles.summarize.retry").partitions, 6);
}

TEST(TopicPlan, OnlyChangelogsAndReplayLedgersAreCompacted) {
  for (const TopicPlan& t : plan_topics(three_stages())) {
    bool ledger = t.name.ends_with(".dlq.replayed");
    EXPECT_EQ(t.compacted, ledger || t.name == "articles.summarize.changelog") << t.name;
  }
}

TEST(TopicPlan, ReplayLedgerHasOnePartitionAndItsStagesReplication) {
  TopicPlan ledger = find(plan_topics(three_stages()), "articles.publish.dlq.replayed");

  EXPECT_EQ(ledger.partitions, 1);
  EXPECT_EQ(ledger.replication, 1);
  EXPECT_EQ(find(plan_topics(three_stages()), "articles.fetch.dlq.replayed").replication, 3);
}

TEST(TopicPlan, ChangelogIsPartitionedLikeItsStagesInput) {
  std::vector<TopicPlan> plan = plan_topics(three_stages());

  EXPECT_EQ(find(plan, "articles.summarize.changelog").partitions,
            find(plan, "articles.summarize").partitions);
}

TEST(TopicPlan, DoneTakesTheLargestPartitionsAndReplicationOfAnyStage) {
  TopicPlan done = find(plan_topics(three_stages()), "articles.done");

  EXPECT_EQ(done.partitions, 8);
  EXPECT_EQ(done.replication, 3);
}

}  // namespace
}  // namespace sluice
