// Inspector: per-stage workers and queue depth, read from the broker.
//
// One producer-type handle answers metadata, group and watermark queries.
// Committed offsets need a consumer handle whose group.id is the stage's
// group; it never subscribes, so it never joins the group and never
// disturbs the workers' assignment. Those handles are cached per group:
// the exporter and `status --watch` call status() over and over, and a new
// handle per call would mean a new coordinator lookup and connection.
#include <algorithm>
#include <map>

#include "kafka_errors.h"
#include "queue_depth.h"
#include "sluice/inspect.h"
#include "sluice/topics/names.h"
#include "task_codec.h"
#include "topic_metadata.h"

namespace sluice {
namespace {

using engine::TopicMap;

class InspectorImpl final : public Inspector {
 public:
  InspectorImpl(const topics::PipelineSpec& spec, KafkaOptions kafka)
      : spec_(spec), kafka_(std::move(kafka)) {}

  Status start();
  Result<PipelineStatus> status() override;

 private:
  Result<StageStatus> stage_status(const topics::StageSpec& stage,
                                   const TopicMap& topics);
  Result<int> count_workers(const std::string& group);
  Result<rd_kafka_t*> group_consumer(const std::string& group);
  Result<TopicDepth> uncommitted(rd_kafka_t* consumer, TopicDepth depth,
                                 const TopicMap& topics, int64_t* circuit_until);
  Result<TopicDepth> stored(TopicDepth depth, const TopicMap& topics);
  Status add_restore_progress(const topics::StageSpec& stage, const TopicMap& topics,
                              StageStatus& out);

  topics::PipelineSpec spec_;
  KafkaOptions kafka_;
  engine::KafkaHandle admin_;
  std::map<std::string, engine::KafkaHandle> consumers_;  // by group
};

Status InspectorImpl::start() {
  auto admin = engine::connect_client(kafka_, engine::ClientSpec{});
  if (!admin.is_ok()) return admin.status();
  admin_ = std::move(admin).value();
  return Status::ok();
}

Result<PipelineStatus> InspectorImpl::status() {
  // Fails clearly when the broker is unreachable; after this, a topic that
  // is missing is reported with depth 0 rather than as an error.
  auto topics = engine::describe_topics(admin_.get(), kafka_);
  if (!topics.is_ok()) return topics.status();
  PipelineStatus out;
  out.pipeline = spec_.pipeline;
  for (const topics::StageSpec& stage : spec_.stages) {
    auto stage_out = stage_status(stage, *topics);
    if (!stage_out.is_ok()) return stage_out.status();
    out.stages.push_back(std::move(stage_out).value());
  }
  auto done = stored({topics::done_topic(spec_.pipeline), "done"}, *topics);
  if (!done.is_ok()) return done.status();
  out.done = done->depth;
  return out;
}

Result<StageStatus> InspectorImpl::stage_status(const topics::StageSpec& stage,
                                                const TopicMap& topics) {
  const std::string& p = spec_.pipeline;
  StageStatus out;
  out.stage = stage.name;
  out.group = topics::group_id(p, stage.name);
  auto workers = count_workers(out.group);
  if (!workers.is_ok()) return workers.status();
  out.workers = *workers;
  auto consumer = group_consumer(out.group);
  if (!consumer.is_ok()) return consumer.status();
  int64_t circuit_until = 0;
  for (TopicDepth queue : {TopicDepth{topics::input_topic(spec_, stage), "input"},
                           TopicDepth{topics::retry_topic(p, stage.name), "retry"}}) {
    auto depth = uncommitted(*consumer, std::move(queue), topics, &circuit_until);
    if (!depth.is_ok()) return depth.status();
    out.topics.push_back(std::move(depth).value());
  }
  out.circuit_open = circuit_until > engine::now_unix_ms();
  if (stage.state) {
    if (Status s = add_restore_progress(stage, topics, out); !s.is_ok()) return s;
  }
  auto dlq = stored({topics::dlq_topic(p, stage.name), "dlq"}, topics);
  if (!dlq.is_ok()) return dlq.status();
  out.topics.push_back(std::move(dlq).value());
  return out;
}

// The error of an entry whose coordinator is still loading, when no entry
// answered: the call is then worth repeating, as for the call's own error.
rd_kafka_resp_err_t settling_entry(const rd_kafka_group_list& list) {
  rd_kafka_resp_err_t settling = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; i < list.group_cnt; ++i) {
    rd_kafka_resp_err_t err = list.groups[i].err;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return err;
    if (engine::coordinator_settling(err)) settling = err;
  }
  return settling;
}

// A group nobody ever joined is described as "Dead"; one whose members all
// left as "Empty". With several brokers, those that do not coordinate the
// group answer with an error for it: the coordinator's entry is the one.
Result<int> InspectorImpl::count_workers(const std::string& group) {
  engine::GroupList list;
  rd_kafka_resp_err_t err = engine::call_when_coordinator_ready(
      kafka_.connect_timeout, [&](int left_ms) {
        const rd_kafka_group_list* raw = nullptr;
        rd_kafka_resp_err_t e = rd_kafka_list_groups(admin_.get(), group.c_str(), &raw, left_ms);
        list.reset(raw);
        return e == RD_KAFKA_RESP_ERR_NO_ERROR && list ? settling_entry(*list) : e;
      });
  // The embedded broker (librdkafka 2.0.2's mock cluster) cannot describe
  // groups: report no workers rather than failing the whole status.
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) return 0;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return engine::kafka_status(err, "describe group " + group);
  }
  int workers = 0;
  for (int i = 0; i < list->group_cnt; ++i) {
    const rd_kafka_group_info& info = list->groups[i];
    std::string state = info.state ? info.state : "";
    if (info.err || state == "Dead" || state == "Empty") continue;
    workers = std::max(workers, info.member_cnt);
  }
  return workers;
}

Result<rd_kafka_t*> InspectorImpl::group_consumer(const std::string& group) {
  auto it = consumers_.find(group);
  if (it != consumers_.end()) {
    // Nothing else polls this handle: drain its error events so they do
    // not pile up across calls.
    rd_kafka_poll(it->second.get(), 0);
    return it->second.get();
  }
  // read_uncommitted, whatever the spec's consumers use: a read_committed
  // OffsetFetch asks for stable offsets, and the broker holds it while a
  // transaction of the group is open. A worker killed -9 mid-transaction
  // leaves one open for up to transaction.timeout.ms plus the broker's abort
  // check interval (20 s by default): status would time out all that while.
  // Unstable, the answer is the last committed offset, which is what queue
  // depth counts from.
  KafkaOptions options = kafka_;
  options.properties.erase("isolation.level");
  engine::ClientSpec spec = engine::consumer_spec(group);
  spec.forced["isolation.level"] = "read_uncommitted";
  auto consumer = engine::make_client(options, std::move(spec));
  if (!consumer.is_ok()) return consumer.status();
  rd_kafka_t* rk = consumer->get();
  consumers_.emplace(group, std::move(consumer).value());
  return rk;
}

Result<TopicDepth> InspectorImpl::uncommitted(rd_kafka_t* consumer, TopicDepth depth,
                                              const TopicMap& topics, int64_t* circuit_until) {
  auto it = topics.find(depth.topic);
  if (it == topics.end()) return depth;  // not created yet: nothing queued
  auto records = engine::uncommitted_records(consumer, depth.topic, it->second.partitions,
                                             kafka_.connect_timeout, circuit_until);
  if (!records.is_ok()) return records.status();
  depth.depth = *records;
  return depth;
}

Status InspectorImpl::add_restore_progress(const topics::StageSpec& stage,
                                           const TopicMap& topics, StageStatus& out) {
  std::string changelog = topics::changelog_topic(spec_.pipeline, stage.name);
  auto it = topics.find(changelog);
  if (it == topics.end()) return Status::ok();
  auto consumer = group_consumer(topics::restore_group_id(spec_.pipeline, stage.name));
  if (!consumer.is_ok()) return consumer.status();
  auto progress = engine::restore_progress(*consumer, changelog, it->second.partitions,
                                           kafka_.connect_timeout);
  if (!progress.is_ok()) return progress.status();
  out.restoring_partitions = progress->partitions;
  out.restore_records_left = progress->records_left;
  return Status::ok();
}

Result<TopicDepth> InspectorImpl::stored(TopicDepth depth, const TopicMap& topics) {
  auto it = topics.find(depth.topic);
  if (it == topics.end()) return depth;
  auto records = engine::stored_records(admin_.get(), depth.topic,
                                        it->second.partitions, kafka_.connect_timeout);
  if (!records.is_ok()) return records.status();
  depth.depth = *records;
  return depth;
}

}  // namespace

Result<std::unique_ptr<Inspector>> Inspector::create(const topics::PipelineSpec& spec,
                                                     const KafkaOptions& kafka) {
  auto inspector = std::make_unique<InspectorImpl>(spec, kafka);
  if (Status s = inspector->start(); !s.is_ok()) return s;
  return std::unique_ptr<Inspector>(std::move(inspector));
}

}  // namespace sluice
