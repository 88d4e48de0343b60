#include "exporter.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "listen_address.h"
#include "metrics_endpoint.h"
#include "sluice/inspect.h"

namespace sluice::ops {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

struct ExporterFamilies {
  explicit ExporterFamilies(prometheus::Registry& r)
      : queue_depth(BuildGauge().Name("sluice_queue_depth")
                        .Help("Records not yet committed by the stage's group, per topic role")
                        .Register(r)),
        oldest_waiting(BuildGauge().Name("sluice_oldest_waiting_seconds")
                           .Help("Age of the oldest record the stage's group has not committed")
                           .Register(r)),
        workers(BuildGauge().Name("sluice_stage_workers")
                    .Help("Members of the stage's consumer group").Register(r)),
        intake(BuildCounter().Name("sluice_intake_total")
                   .Help("Records written to the pipeline's intake topic").Register(r)),
        done(BuildCounter().Name("sluice_done_total")
                 .Help("Records written to the pipeline's done topic").Register(r)),
        slo_p99(BuildGauge().Name("sluice_slo_end_to_end_p99_seconds")
                    .Help("The spec's slo.end_to_end_p99 of the stage").Register(r)) {}
  Family<Gauge>& queue_depth;
  Family<Gauge>& oldest_waiting;
  Family<Gauge>& workers;
  Family<Counter>& intake;
  Family<Counter>& done;
  Family<Gauge>& slo_p99;
};

// A counter that follows a total read from elsewhere (a topic's high
// watermarks): it adds what the total grew by. A total that shrank (a topic
// deleted and made again) is taken as the new base.
class FollowedTotal {
 public:
  explicit FollowedTotal(Counter& counter) : counter_(counter) {}
  void follow(int64_t total) {
    if (total > last_) counter_.Increment(static_cast<double>(total - last_));
    last_ = total;
  }

 private:
  Counter& counter_;
  int64_t last_ = 0;
};

class PipelineExporterImpl final : public PipelineExporter {
 public:
  PipelineExporterImpl(const topics::PipelineSpec& spec, std::unique_ptr<Inspector> inspector,
                       std::chrono::milliseconds interval)
      : registry_(std::make_shared<prometheus::Registry>()),
        families_(*registry_),
        pipeline_(spec.pipeline),
        inspector_(std::move(inspector)),
        interval_(interval),
        intake_(families_.intake.Add({{"pipeline", pipeline_}, {"stage", ""}})),
        done_(families_.done.Add({{"pipeline", pipeline_}, {"stage", ""}})) {
    for (const topics::StageSpec& stage : spec.stages) {
      if (stage.slo.end_to_end_p99) {
        families_.slo_p99.Add(labels(stage.name))
            .Set(std::chrono::duration<double>(*stage.slo.end_to_end_p99).count());
      }
    }
  }
  ~PipelineExporterImpl() override {
    server_.reset();  // no scrape reads the registry past here
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable()) refresher_.join();
  }

  Status start(const std::string& address) {
    if (Status s = refresh(); !s.is_ok()) return s;
    auto server = start_metrics_endpoint(address, registry_);
    if (!server.is_ok()) return server.status();
    server_ = std::move(server).value();
    refresher_ = std::thread([this] { refresh_loop(); });
    return Status::ok();
  }

 private:
  prometheus::Labels labels(const std::string& stage) const {
    return {{"pipeline", pipeline_}, {"stage", stage}};
  }

  void refresh_loop() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      Status s = refresh();
      // Once per outage: the gauges keep their last values meanwhile.
      if (!s.is_ok() && error_.empty()) {
        spdlog::warn("exporter: not refreshed (serving the last reading): {}", s.message());
      } else if (s.is_ok() && !error_.empty()) {
        spdlog::info("exporter: the broker answers again");
      }
      error_ = s.is_ok() ? "" : s.message();
      lock.lock();
    }
  }

  Status refresh() {
    auto status = inspector_->status();
    if (!status.is_ok()) return status.status();
    for (const StageStatus& stage : status->stages) {
      families_.workers.Add(labels(stage.stage)).Set(stage.workers);
      for (const TopicDepth& topic : stage.topics) {
        prometheus::Labels l = labels(stage.stage);
        l["topic"] = topic.role;
        families_.queue_depth.Add(l).Set(static_cast<double>(topic.depth));
        if (topic.role == "input" || topic.role == "retry") {
          families_.oldest_waiting.Add(l).Set(topic.oldest_waiting_seconds);
        }
      }
    }
    intake_.follow(status->intake_written);
    done_.follow(status->done_written);
    return Status::ok();
  }

  std::shared_ptr<prometheus::Registry> registry_;
  ExporterFamilies families_;
  std::string pipeline_;
  std::unique_ptr<Inspector> inspector_;
  std::chrono::milliseconds interval_;
  FollowedTotal intake_, done_;  // refresher only
  std::string error_;            // the last refresh's failure; empty: none (refresher only)
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread refresher_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace

Result<std::unique_ptr<PipelineExporter>> PipelineExporter::start(
    const std::string& address, const topics::PipelineSpec& spec, const KafkaOptions& kafka,
    std::chrono::milliseconds interval) {
  auto resolved = listen_address(address);
  if (!resolved.is_ok()) return resolved.status();
  InspectOptions options;
  options.oldest_waiting = true;
  auto inspector = Inspector::create(spec, kafka, options);
  if (!inspector.is_ok()) return inspector.status();
  auto exporter =
      std::make_unique<PipelineExporterImpl>(spec, std::move(inspector).value(), interval);
  if (Status s = exporter->start(*resolved); !s.is_ok()) return s;
  return std::unique_ptr<PipelineExporter>(std::move(exporter));
}

}  // namespace sluice::ops
