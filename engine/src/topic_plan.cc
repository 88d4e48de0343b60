// plan_topics: README.md's topic table, instantiated for one spec.
#include <algorithm>

#include "sluice/admin.h"
#include "sluice/topics/names.h"

namespace sluice {
namespace {

TopicPlan stage_owned(std::string name, const topics::StageSpec& stage,
                      bool compacted = false) {
  return {std::move(name), stage.partitions, stage.replication, compacted};
}

// <p>.done takes the largest partition count and replication of any stage:
// it is the pipeline's output, read by the user's own consumers, so it
// should neither be narrower than the widest stage nor less durable than the
// most durable one. (The entry stage's settings would tie the output's
// parallelism to intake's, which has nothing to do with it.)
TopicPlan done_plan(const topics::PipelineSpec& spec) {
  TopicPlan done{topics::done_topic(spec.pipeline), 1, 1, false};
  for (const topics::StageSpec& stage : spec.stages) {
    done.partitions = std::max(done.partitions, stage.partitions);
    done.replication = std::max(done.replication, stage.replication);
  }
  return done;
}

}  // namespace

std::vector<TopicPlan> plan_topics(const topics::PipelineSpec& spec) {
  const std::string& p = spec.pipeline;
  std::vector<TopicPlan> plan;
  for (const topics::StageSpec& stage : spec.stages) {
    // The input of the entry stage is <p>.intake, of any other <p>.<stage>.
    plan.push_back(stage_owned(topics::input_topic(spec, stage), stage));
    plan.push_back(stage_owned(topics::retry_topic(p, stage.name), stage));
    plan.push_back(stage_owned(topics::dlq_topic(p, stage.name), stage));
    // The replay ledger: one partition, read whole before every replay;
    // compacted, since only the latest record per letter matters.
    plan.push_back({topics::dlq_ledger_topic(p, stage.name), 1, stage.replication,
                    /*compacted=*/true});
    if (stage.state) {
      // Partitioned like the input: partition n of the changelog restores
      // the state of input partition n.
      plan.push_back(stage_owned(topics::changelog_topic(p, stage.name), stage,
                                 /*compacted=*/true));
    }
  }
  plan.push_back(done_plan(spec));
  return plan;
}

}  // namespace sluice
