#include "sluice/admission.h"

#include "lag_monitor.h"
#include "sluice/topics/names.h"

namespace sluice {
namespace {

class AdmissionCheckImpl final : public AdmissionCheck {
 public:
  AdmissionCheckImpl(const topics::StageSpec& entry, std::unique_ptr<engine::LagMonitor> monitor)
      : stage_(entry.name),
        high_watermark_(entry.backpressure.high_watermark),
        monitor_(std::move(monitor)) {}

  Result<IntakeRoom> read() override {
    auto reading = monitor_->read();
    if (!reading.is_ok()) return reading.status();
    return IntakeRoom{stage_, reading->groups.at(0).depth(), high_watermark_};
  }

 private:
  std::string stage_;
  int64_t high_watermark_;
  std::unique_ptr<engine::LagMonitor> monitor_;
};

}  // namespace

std::string IntakeRoom::why() const {
  return "stage " + stage + " holds " + std::to_string(depth) + " jobs, over its high watermark " +
         std::to_string(high_watermark);
}

Result<std::unique_ptr<AdmissionCheck>> AdmissionCheck::create(const topics::PipelineSpec& spec,
                                                               const KafkaOptions& kafka) {
  const topics::StageSpec& entry = spec.entry_stage();
  auto monitor = engine::LagMonitor::create(
      kafka, {{topics::group_id(spec.pipeline, entry.name),
               {topics::input_topic(spec, entry), topics::retry_topic(spec.pipeline, entry.name)}}});
  if (!monitor.is_ok()) return monitor.status();
  return std::unique_ptr<AdmissionCheck>(
      std::make_unique<AdmissionCheckImpl>(entry, std::move(monitor).value()));
}

}  // namespace sluice
