#include "lag_watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "kafka_errors.h"
#include "sluice/topics/names.h"
#include "task_codec.h"
#include "worker_report.h"

namespace sluice::engine {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kWarningEvery{30};
constexpr std::chrono::milliseconds kReadTimeout{2000};

}  // namespace

Result<std::unique_ptr<LagWatcher>> LagWatcher::start(const KafkaOptions& kafka,
                                                      const topics::PipelineSpec& spec,
                                                      const topics::StageSpec& stage) {
  std::vector<GroupQueues> groups;
  std::vector<DownstreamStage> downstream;
  for (const std::string& name : stage.next) {
    const topics::StageSpec* next = spec.find_stage(name);
    if (next == nullptr) continue;  // the spec's validation refuses this
    groups.push_back({topics::group_id(spec.pipeline, name),
                      {topics::input_topic(spec, *next), topics::retry_topic(spec.pipeline, name)}});
    downstream.push_back({name, next->backpressure.high_watermark,
                          next->backpressure.low_watermark});
  }
  auto monitor = LagMonitor::create(kafka, std::move(groups));
  if (!monitor.is_ok()) return monitor.status();
  // Each broker call of a reading is bounded by kReadTimeout, not the
  // spec's connect_timeout: readings come every second, and the worker's
  // shutdown joins this thread, so one reading against a lost broker must
  // end well inside the shutdown deadline.
  (*monitor)->bound_reads(kReadTimeout);
  return std::make_unique<LagWatcher>(std::move(monitor).value(), std::move(downstream),
                                      topics::status_group_id(spec.pipeline, stage.name),
                                      topics::input_topic(spec, stage));
}

LagWatcher::LagWatcher(std::unique_ptr<LagMonitor> monitor,
                       std::vector<DownstreamStage> downstream, std::string status_group,
                       std::string input_topic)
    : monitor_(std::move(monitor)),
      gate_logic_(downstream),
      watches_downstream_(!downstream.empty()),
      status_group_(std::move(status_group)),
      input_topic_(std::move(input_topic)),
      last_reading_(Clock::now()) {
  progress_unix_ms_.store(now_unix_ms());
  thread_ = std::thread([this] { run(); });
}

LagWatcher::~LagWatcher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

LagWatcher::Gate LagWatcher::gate() const {
  std::lock_guard lock(mutex_);
  return gate_;
}

void LagWatcher::set_partitions(std::vector<int32_t> partitions) {
  {
    std::lock_guard lock(mutex_);
    partitions_ = std::move(partitions);
    report_now_ = true;
  }
  wake_.notify_all();
}

// A reading and a report every kWorkerReportInterval, and a report at once
// when the partitions change: until its first, `status` cannot tell a newly
// assigned partition's owner from none (worker_report.h).
void LagWatcher::run() {
  std::unique_lock lock(mutex_);
  Clock::time_point next_round = Clock::now();
  while (!stop_) {
    bool round = Clock::now() >= next_round;
    report_now_ = false;
    lock.unlock();
    if (round && watches_downstream_) read_downstream();
    send_report(round);
    lock.lock();
    if (round) next_round = Clock::now() + kWorkerReportInterval;
    wake_.wait_until(lock, next_round, [this] { return stop_ || report_now_; });
  }
}

void LagWatcher::read_downstream() {
  auto reading = monitor_->read();
  Clock::time_point now = Clock::now();
  if (reading.is_ok()) {
    std::vector<int64_t> depths;
    for (const GroupLag& group : reading->groups) depths.push_back(group.depth());
    gate_logic_.update(depths);
    last_reading_ = now;
  } else {
    if (now >= next_warning_) {
      spdlog::warn("backpressure: cannot read the queue depth of the next stages: {}{}",
                   reading.status().message(),
                   gate_logic_.shut() ? "; the input stays paused meanwhile" : "");
      next_warning_ = now + kWarningEvery;
    }
    if (now - last_reading_ < kForgetAfter) return;
    if (gate_logic_.shut() || gate_logic_.room() != INT64_MAX) {
      spdlog::warn("backpressure: no reading of the next stages for {} s; resuming the input",
                   kForgetAfter.count());
    }
    gate_logic_.forget();
  }
  std::lock_guard lock(mutex_);
  gate_ = {gate_logic_.shut(), gate_logic_.cause(), gate_logic_.why(), gate_logic_.room(),
           gate_logic_.tightest()};
  gate_version_.fetch_add(1, std::memory_order_acq_rel);
}

void LagWatcher::send_report(bool round) {
  std::vector<int32_t> partitions;
  WorkerReport report;
  {
    std::lock_guard lock(mutex_);
    partitions = partitions_;
    report.paused_by = gate_.shut ? gate_.cause
                       : held_back_.load(std::memory_order_relaxed) ? gate_.tightest
                                                                    : std::string();
  }
  Clock::time_point now = Clock::now();
  uint64_t ended = tasks_ended_.load(std::memory_order_relaxed);
  if (round && last_report_ != Clock::time_point{}) {
    double seconds = std::chrono::duration<double>(now - last_report_).count();
    double sample = seconds > 0 ? static_cast<double>(ended - ended_at_last_report_) / seconds : 0;
    tasks_per_second_.sample(sample);
  }
  if (round) {
    last_report_ = now;
    ended_at_last_report_ = ended;
  }
  if (partitions.empty()) return;
  report.millitasks_per_second = static_cast<int64_t>(
      tasks_per_second_.per_second() * 1000.0 / static_cast<double>(partitions.size()));
  auto consumer = monitor_->group_consumer(status_group_);
  if (!consumer.is_ok()) return;
  report.at_unix_ms = now_unix_ms();
  report.progress_unix_ms = progress_unix_ms_.load(std::memory_order_relaxed);
  std::string metadata = encode_worker_report(report);
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (int32_t p : partitions) {
    rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_add(list.get(), input_topic_.c_str(), p);
    tp->offset = 0;  // the report is the metadata
    // librdkafka frees what it holds here with the list.
    tp->metadata = rd_kafka_mem_malloc(nullptr, metadata.size());
    std::copy(metadata.begin(), metadata.end(), static_cast<char*>(tp->metadata));
    tp->metadata_size = metadata.size();
  }
  // Asynchronous: a slow coordinator delays a report, never the gate.
  rd_kafka_resp_err_t err = rd_kafka_commit(*consumer, list.get(), 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::debug("{}", kafka_status(err, "report to " + status_group_).message());
  }
}

}  // namespace sluice::engine
