// Inspector: per-stage workers, queue depth and what the workers report,
// read from the broker.
//
// The LagMonitor reads every stage group's depth in one go and owns the
// handles: an admin handle answers metadata and group queries; committed
// offsets need a consumer handle whose group.id is the group asked about,
// one per group, made once and kept: the exporter and `status --watch` call
// status() over and over, and a new handle per call would mean a new
// coordinator lookup and connection.
#include <algorithm>
#include <chrono>
#include <map>

#include "head_timestamps.h"
#include "kafka_errors.h"
#include "lag_monitor.h"
#include "queue_depth.h"
#include "sluice/inspect.h"
#include "sluice/topics/names.h"
#include "task_codec.h"
#include "worker_report.h"

namespace sluice {
namespace {

using engine::GroupLag;
using engine::TopicMap;

constexpr std::chrono::milliseconds kHeadsTimeout{2000};

class InspectorImpl final : public Inspector {
 public:
  InspectorImpl(const topics::PipelineSpec& spec, KafkaOptions kafka,
                std::unique_ptr<engine::LagMonitor> monitor,
                std::unique_ptr<engine::HeadTimestamps> heads)
      : spec_(spec),
        kafka_(std::move(kafka)),
        monitor_(std::move(monitor)),
        heads_(std::move(heads)) {}

  Result<PipelineStatus> status() override;

 private:
  Result<StageStatus> stage_status(const topics::StageSpec& stage, const GroupLag& lag,
                                   const engine::LagReading& reading);
  struct GroupMembers {
    int count = 0;
    bool stable = true;  // not rebalancing
  };
  Result<GroupMembers> count_workers(const std::string& group);
  Status add_reports(const topics::StageSpec& stage, const engine::TopicLag& input,
                     bool group_stable, StageStatus& out);
  Status add_restore_progress(const topics::StageSpec& stage, const TopicMap& topics,
                              StageStatus& out);
  Status add_oldest_waiting(const engine::LagReading& reading, PipelineStatus& out);

  topics::PipelineSpec spec_;
  KafkaOptions kafka_;
  std::unique_ptr<engine::LagMonitor> monitor_;
  std::unique_ptr<engine::HeadTimestamps> heads_;  // null: ages not read
};

Result<PipelineStatus> InspectorImpl::status() {
  // Fails clearly when the broker is unreachable; after this, a topic that
  // is missing is reported with depth 0 rather than as an error.
  auto reading = monitor_->read();
  if (!reading.is_ok()) return reading.status();
  PipelineStatus out;
  out.pipeline = spec_.pipeline;
  for (size_t i = 0; i < spec_.stages.size(); ++i) {
    auto stage_out = stage_status(spec_.stages[i], reading->groups[i], *reading);
    if (!stage_out.is_ok()) return stage_out.status();
    out.stages.push_back(std::move(stage_out).value());
  }
  out.done = reading->stored[topics::done_topic(spec_.pipeline)];
  out.done_written = reading->written[topics::done_topic(spec_.pipeline)];
  out.intake_written = reading->written[topics::intake_topic(spec_.pipeline)];
  if (heads_) {
    if (Status s = add_oldest_waiting(*reading, out); !s.is_ok()) return s;
  }
  return out;
}

// The record at each waiting partition's committed offset is its oldest.
Status InspectorImpl::add_oldest_waiting(const engine::LagReading& reading, PipelineStatus& out) {
  std::vector<engine::PartitionOffset> heads;
  for (const engine::GroupLag& group : reading.groups) {
    for (const engine::TopicLag& topic : group.topics) {
      for (size_t p = 0; p < topic.waiting_from.size(); ++p) {
        if (topic.waiting_from[p] < 0) continue;
        heads.push_back({topic.topic, static_cast<int32_t>(p), topic.waiting_from[p]});
      }
    }
  }
  // Bounded apart from connect_timeout: a partition whose waiting offsets
  // hold only a transaction marker (until its worker commits past it) gives
  // no record, and the read waits out its bound each time.
  auto timestamps = heads_->read(
      heads, std::min<std::chrono::milliseconds>(kafka_.connect_timeout, kHeadsTimeout));
  if (!timestamps.is_ok()) return timestamps.status();
  int64_t now = engine::now_unix_ms();
  for (StageStatus& stage : out.stages) {
    for (TopicDepth& topic : stage.topics) {
      if (topic.role != "input" && topic.role != "retry") continue;
      for (const auto& [key, at] : *timestamps) {
        if (key.first != topic.topic) continue;
        topic.oldest_waiting_seconds = std::max(
            topic.oldest_waiting_seconds, static_cast<double>(std::max<int64_t>(0, now - at)) / 1000);
      }
    }
  }
  return Status::ok();
}

Result<StageStatus> InspectorImpl::stage_status(const topics::StageSpec& stage,
                                                const GroupLag& lag,
                                                const engine::LagReading& reading) {
  const std::string& p = spec_.pipeline;
  StageStatus out;
  out.stage = stage.name;
  out.group = lag.group;
  auto workers = count_workers(out.group);
  if (!workers.is_ok()) return workers.status();
  out.workers = workers->count;
  static constexpr const char* kRoles[] = {"input", "retry"};
  for (size_t i = 0; i < lag.topics.size(); ++i) {
    out.topics.push_back({lag.topics[i].topic, kRoles[i], lag.topics[i].depth});
  }
  out.circuit_open = lag.circuit_until_unix_ms > engine::now_unix_ms();
  if (stage.state) {
    if (Status s = add_restore_progress(stage, reading.topics, out); !s.is_ok()) return s;
  }
  if (Status s = add_reports(stage, lag.topics[0], workers->stable, out); !s.is_ok()) return s;
  std::string dlq = topics::dlq_topic(p, stage.name);
  auto stored = reading.stored.find(dlq);
  out.topics.push_back({dlq, "dlq", stored == reading.stored.end() ? 0 : stored->second});
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
// left as "Empty"; one rebalancing as "PreparingRebalance" or
// "CompletingRebalance". With several brokers, those that do not coordinate
// the group answer with an error for it: the coordinator's entry is the one.
Result<InspectorImpl::GroupMembers> InspectorImpl::count_workers(const std::string& group) {
  engine::GroupList list;
  rd_kafka_resp_err_t err = engine::call_when_coordinator_ready(
      kafka_.connect_timeout, [&](int left_ms) {
        const rd_kafka_group_list* raw = nullptr;
        rd_kafka_resp_err_t e =
            rd_kafka_list_groups(monitor_->admin(), group.c_str(), &raw, left_ms);
        list.reset(raw);
        return e == RD_KAFKA_RESP_ERR_NO_ERROR && list ? settling_entry(*list) : e;
      });
  // The embedded broker (librdkafka's mock cluster) cannot describe groups:
  // report no workers rather than failing the whole status.
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) return GroupMembers{};
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return engine::kafka_status(err, "describe group " + group);
  }
  GroupMembers members;
  for (int i = 0; i < list->group_cnt; ++i) {
    const rd_kafka_group_info& info = list->groups[i];
    std::string state = info.state ? info.state : "";
    if (info.err || state == "Dead" || state == "Empty") continue;
    members.count = std::max(members.count, info.member_cnt);
    members.stable = state == "Stable";
  }
  return members;
}

// The workers' reports (worker_report.h), one per input partition, against
// what waits on each.
Status InspectorImpl::add_reports(const topics::StageSpec& stage, const engine::TopicLag& input,
                                  bool group_stable, StageStatus& out) {
  if (input.partitions.empty()) return Status::ok();
  std::string group = topics::status_group_id(spec_.pipeline, stage.name);
  auto consumer = monitor_->group_consumer(group);
  if (!consumer.is_ok()) return consumer.status();
  engine::PartitionList reports(
      rd_kafka_topic_partition_list_new(static_cast<int>(input.partitions.size())));
  for (size_t p = 0; p < input.partitions.size(); ++p) {
    rd_kafka_topic_partition_list_add(reports.get(), input.topic.c_str(), static_cast<int32_t>(p));
  }
  rd_kafka_resp_err_t err = engine::call_when_coordinator_ready(
      kafka_.connect_timeout,
      [&](int left_ms) { return rd_kafka_committed(*consumer, reports.get(), left_ms); });
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return engine::kafka_status(err, "read the worker reports of group " + group);
  }
  int64_t now = engine::now_unix_ms();
  int64_t stuck_after = stage.timeout.count() + engine::kNoProgressGrace.count();
  for (int i = 0; i < reports->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = reports->elems[i];
    std::optional<engine::WorkerReport> report;
    if (!tp.err && tp.metadata != nullptr) {
      report = engine::parse_worker_report(
          std::string_view(static_cast<const char*>(tp.metadata), tp.metadata_size));
    }
    bool fresh = report && now - report->at_unix_ms <= engine::kWorkerReportStale.count();
    if (fresh) out.throughput += static_cast<double>(report->millitasks_per_second) / 1000.0;
    if (fresh && !report->paused_by.empty()) {
      out.paused_by = report->paused_by;
      continue;
    }
    bool waiting = tp.partition >= 0 &&
                   static_cast<size_t>(tp.partition) < input.partitions.size() &&
                   input.partitions[tp.partition] > 0;
    if (!waiting || out.workers == 0 || out.circuit_open || out.restoring_partitions > 0) continue;
    if (engine::report_shows_stuck(report, now, stuck_after, group_stable)) ++out.stuck_partitions;
  }
  return Status::ok();
}

Status InspectorImpl::add_restore_progress(const topics::StageSpec& stage,
                                           const TopicMap& topics, StageStatus& out) {
  std::string changelog = topics::changelog_topic(spec_.pipeline, stage.name);
  auto it = topics.find(changelog);
  if (it == topics.end()) return Status::ok();
  auto consumer = monitor_->group_consumer(topics::restore_group_id(spec_.pipeline, stage.name));
  if (!consumer.is_ok()) return consumer.status();
  auto progress = engine::restore_progress(*consumer, changelog, it->second.partitions,
                                           kafka_.connect_timeout);
  if (!progress.is_ok()) return progress.status();
  out.restoring_partitions = progress->partitions;
  out.restore_records_left = progress->records_left;
  return Status::ok();
}

}  // namespace

int64_t StageStatus::depth(const std::string& role) const {
  for (const TopicDepth& topic : topics) {
    if (topic.role == role) return topic.depth;
  }
  return 0;
}

std::string StageStatus::state() const {
  if (!paused_by.empty()) return "paused";
  if (stuck()) return "stuck";
  if (waiting() == 0) return "idle";
  return workers == 0 ? "no workers" : "running";
}

Result<std::unique_ptr<Inspector>> Inspector::create(const topics::PipelineSpec& spec,
                                                     const KafkaOptions& kafka,
                                                     InspectOptions options) {
  std::vector<engine::GroupQueues> groups;
  std::vector<std::string> stored;
  for (const topics::StageSpec& stage : spec.stages) {
    groups.push_back({topics::group_id(spec.pipeline, stage.name),
                      {topics::input_topic(spec, stage),
                       topics::retry_topic(spec.pipeline, stage.name)}});
    stored.push_back(topics::dlq_topic(spec.pipeline, stage.name));
  }
  stored.push_back(topics::done_topic(spec.pipeline));
  stored.push_back(topics::intake_topic(spec.pipeline));
  auto monitor = engine::LagMonitor::create(kafka, std::move(groups), std::move(stored));
  if (!monitor.is_ok()) return monitor.status();
  std::unique_ptr<engine::HeadTimestamps> heads;
  if (options.oldest_waiting) {
    auto made = engine::HeadTimestamps::create(kafka);
    if (!made.is_ok()) return made.status();
    heads = std::move(made).value();
  }
  return std::unique_ptr<Inspector>(std::make_unique<InspectorImpl>(
      spec, kafka, std::move(monitor).value(), std::move(heads)));
}

}  // namespace sluice
