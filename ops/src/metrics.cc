#include "metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <optional>
#include <thread>

#include "error_kind_label.h"
#include "listen_address.h"
#include "metrics_endpoint.h"
#include "sluice/inspect.h"

namespace sluice::ops {
namespace {

using prometheus::Histogram;

const Histogram::BucketBoundaries& latency_buckets() {
  // From 1 ms to 10 min: agent steps (model and API calls) are slow.
  static const Histogram::BucketBoundaries buckets = {
      0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return buckets;
}

struct Families {
  explicit Families(prometheus::Registry& r)
      : queue_depth(prometheus::BuildGauge().Name("sluice_queue_depth")
                        .Help("Records not yet committed by the stage's group, per topic role")
                        .Register(r)),
        tasks(prometheus::BuildCounter().Name("sluice_tasks_total")
                  .Help("Task attempts by outcome").Register(r)),
        duration(prometheus::BuildHistogram().Name("sluice_task_duration_seconds")
                     .Help("Time a task attempt spent in the stage").Register(r)),
        end_to_end(prometheus::BuildHistogram().Name("sluice_end_to_end_seconds")
                       .Help("Time from submission to the end of a task at this stage")
                       .Register(r)),
        inflight(prometheus::BuildGauge().Name("sluice_inflight_tasks")
                     .Help("Tasks running in this worker").Register(r)),
        paused(prometheus::BuildGauge().Name("sluice_backpressure_paused")
                   .Help("1 while the worker holds its input back: backpressure, or its own bounds").Register(r)),
        workers(prometheus::BuildGauge().Name("sluice_stage_workers")
                    .Help("Members of the stage's consumer group").Register(r)),
        errors(prometheus::BuildCounter().Name("sluice_task_errors_total")
                   .Help("Failed task attempts by error kind").Register(r)),
        circuit_open(prometheus::BuildGauge().Name("sluice_circuit_open")
                         .Help("1 while the stage's circuit breaker is open or half-open")
                         .Register(r)),
        restored(prometheus::BuildCounter().Name("sluice_state_restore_records_total")
                     .Help("Changelog records applied to a stateful stage's local state")
                     .Register(r)),
        restore_lag(prometheus::BuildGauge().Name("sluice_state_restore_lag")
                        .Help("Changelog records still to restore, over the partitions "
                              "restoring")
                        .Register(r)) {}
  prometheus::Family<prometheus::Gauge>& queue_depth;
  prometheus::Family<prometheus::Counter>& tasks;
  prometheus::Family<Histogram>& duration;
  prometheus::Family<Histogram>& end_to_end;
  prometheus::Family<prometheus::Gauge>& inflight;
  prometheus::Family<prometheus::Gauge>& paused;
  prometheus::Family<prometheus::Gauge>& workers;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Family<prometheus::Gauge>& circuit_open;
  prometheus::Family<prometheus::Counter>& restored;
  prometheus::Family<prometheus::Gauge>& restore_lag;
};

class StageObserver final : public WorkerObserver {
 public:
  StageObserver(Families& f, const prometheus::Labels& labels)
      : errors_family_(f.errors),
        labels_(labels),
        ok_(f.tasks.Add(with(labels, "outcome", "ok"))),
        retried_(f.tasks.Add(with(labels, "outcome", "retried"))),
        dead_lettered_(f.tasks.Add(with(labels, "outcome", "dead_lettered"))),
        duration_(f.duration.Add(labels, latency_buckets())),
        end_to_end_(f.end_to_end.Add(labels, latency_buckets())),
        inflight_(f.inflight.Add(labels)),
        paused_(f.paused.Add(labels)),
        circuit_open_(f.circuit_open.Add(labels)),
        restored_(f.restored.Add(labels)),
        restore_lag_(f.restore_lag.Add(labels)) {}

  void task_ended(TaskResult result, double duration, double end_to_end) override {
    counter(result).Increment();
    duration_.Observe(duration);
    if (result == TaskResult::kOk && end_to_end > 0) end_to_end_.Observe(end_to_end);
  }
  void inflight_changed(size_t tasks) override { inflight_.Set(static_cast<double>(tasks)); }
  void assignment_changed(size_t) override { joined_.store(true); }
  // The worker had its first assignment (of any size): it is in its group.
  bool joined() const { return joined_.load(); }
  void paused_changed(bool paused) override { paused_.Set(paused ? 1 : 0); }
  void task_failed(std::string_view kind) override { error_counter(kind).Increment(); }
  void circuit_changed(bool open) override { circuit_open_.Set(open ? 1 : 0); }
  void state_restored(size_t records, int64_t lag) override {
    restored_.Increment(static_cast<double>(records));
    restore_lag_.Set(static_cast<double>(lag));
  }

 private:
  static prometheus::Labels with(prometheus::Labels labels, const std::string& name,
                                 const std::string& value) {
    labels[name] = value;
    return labels;
  }
  prometheus::Counter& counter(TaskResult result) {
    switch (result) {
      case TaskResult::kOk: return ok_;
      case TaskResult::kRetried: return retried_;
      case TaskResult::kDeadLettered: return dead_lettered_;
    }
    return ok_;
  }
  // A kind's series is made on its first failure (labels bounded by
  // ErrorKindLabels) and kept here, so later failures skip the family's lock.
  prometheus::Counter& error_counter(std::string_view kind) {
    std::string label = kind_labels_.label(kind);
    auto it = errors_.find(label);
    if (it == errors_.end()) {
      it = errors_.emplace(label, &errors_family_.Add(with(labels_, "kind", label))).first;
    }
    return *it->second;
  }

  prometheus::Family<prometheus::Counter>& errors_family_;
  const prometheus::Labels labels_;
  ErrorKindLabels kind_labels_;
  std::map<std::string, prometheus::Counter*, std::less<>> errors_;
  prometheus::Counter& ok_;
  prometheus::Counter& retried_;
  prometheus::Counter& dead_lettered_;
  Histogram& duration_;
  Histogram& end_to_end_;
  prometheus::Gauge& inflight_;
  prometheus::Gauge& paused_;
  prometheus::Gauge& circuit_open_;
  prometheus::Counter& restored_;
  prometheus::Gauge& restore_lag_;
  std::atomic<bool> joined_{false};
};

class MetricsServerImpl final : public MetricsServer {
 public:
  MetricsServerImpl(const topics::PipelineSpec& spec, std::unique_ptr<Inspector> inspector,
                    const std::vector<std::string>& stages)
      : registry_(std::make_shared<prometheus::Registry>()),
        families_(*registry_),
        pipeline_(spec.pipeline),
        inspector_(std::move(inspector)) {
    for (const std::string& stage : stages) {
      observers_.emplace(stage, std::make_unique<StageObserver>(families_, labels(stage)));
    }
  }
  ~MetricsServerImpl() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable()) refresher_.join();
  }

  // GET /metrics; /healthz (liveness: 200 while the process serves) and
  // /readyz (200 once every worker of this process joined its group): the
  // probes of the Kubernetes Deployments `sluice k8s` prints.
  Status listen(const std::string& address) {
    auto server = start_metrics_endpoint(
        address, registry_, [this](const HttpRequest& request) { return readiness(request); });
    if (!server.is_ok()) return server.status();
    server_ = std::move(server).value();
    refresher_ = std::thread([this] { refresh_loop(); });
    return Status::ok();
  }

  WorkerObserver* observer(const std::string& stage) override {
    auto it = observers_.find(stage);
    return it == observers_.end() ? nullptr : it->second.get();
  }

 private:
  std::optional<HttpResponse> readiness(const HttpRequest& request) {
    if (request.path != "/readyz") return std::nullopt;
    bool ready = std::all_of(observers_.begin(), observers_.end(),
                             [](const auto& entry) { return entry.second->joined(); });
    return ready ? HttpResponse{200, "ready\n", "text/plain", {}}
                 : HttpResponse{503, "not in its group yet\n", "text/plain", {}};
  }

  prometheus::Labels labels(const std::string& stage) const {
    return {{"pipeline", pipeline_}, {"stage", stage}};
  }

  // Queue depth and group size come from the broker, not from this process,
  // so they are right however many workers run.
  void refresh_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      refresh_once();
      lock.lock();
      wake_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; });
    }
  }

  void refresh_once() {
    auto status = inspector_->status();
    if (!status.is_ok()) {
      // Once per outage, not every 5 s: the gauges keep their last values
      // meanwhile, so the log must say they are stale.
      if (status_error_.empty()) {
        spdlog::warn("metrics: queue depth and workers not refreshed (kept as last read): {}",
                     status.status().message());
      }
      status_error_ = status.status().message();
      return;
    }
    if (!status_error_.empty()) spdlog::info("metrics: queue depth readable again");
    status_error_.clear();
    for (const StageStatus& stage : status->stages) {
      if (observers_.count(stage.stage) == 0) continue;  // another process's stage
      families_.workers.Add(labels(stage.stage)).Set(stage.workers);
      for (const TopicDepth& topic : stage.topics) {
        prometheus::Labels l = labels(stage.stage);
        l["topic"] = topic.role;
        families_.queue_depth.Add(l).Set(static_cast<double>(topic.depth));
      }
    }
  }

  std::shared_ptr<prometheus::Registry> registry_;
  Families families_;
  std::string pipeline_;
  std::unique_ptr<Inspector> inspector_;
  std::string status_error_;  // the refresher's last failure; empty: none (refresher only)
  std::map<std::string, std::unique_ptr<StageObserver>> observers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread refresher_;
  std::unique_ptr<HttpServer> server_;  // last: it stops first, while the rest still stands
};

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address,
                                                            const topics::PipelineSpec& spec,
                                                            const KafkaOptions& kafka,
                                                            const std::vector<std::string>& stages) {
  auto resolved = listen_address(address);
  if (!resolved.is_ok()) return resolved.status();
  auto inspector = Inspector::create(spec, kafka);
  if (!inspector.is_ok()) return inspector.status();
  auto server = std::make_unique<MetricsServerImpl>(spec, std::move(inspector).value(), stages);
  if (Status s = server->listen(*resolved); !s.is_ok()) return s;
  return std::unique_ptr<MetricsServer>(std::move(server));
}

}  // namespace sluice::ops
