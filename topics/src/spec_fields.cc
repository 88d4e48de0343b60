#include "sluice/topics/spec_fields.h"

namespace sluice::topics {
namespace {

constexpr std::string_view kTop[] = {"pipeline", "kafka", "defaults", "stages"};
constexpr std::string_view kKafka[] = {"brokers", "properties"};
constexpr std::string_view kStage[] = {"name", "kind",   "command", "builtin",
                                       "http", "dedupe", "gather",  "next"};
constexpr std::string_view kSettings[] = {"partitions", "replication", "guarantee",
                                          "concurrency", "timeout", "commit_interval", "retry",
                                          "circuit", "backpressure", "state", "env",
                                          "inherit_env", "max_outputs", "max_state_bytes",
                                          "state_dir", "scale", "lag_threshold",
                                          "max_buffered_tasks", "max_buffered_bytes", "slo"};
constexpr std::string_view kHttp[] = {"url", "method", "headers"};
constexpr std::string_view kDedupe[] = {"window", "field"};
constexpr std::string_view kGather[] = {"timeout"};
constexpr std::string_view kRetry[] = {"max_attempts", "backoff", "max_backoff", "mode"};
constexpr std::string_view kCircuit[] = {"failures", "failure_rate", "window", "cool_down"};
constexpr std::string_view kBackpressure[] = {"high_watermark", "low_watermark"};
constexpr std::string_view kScale[] = {"min", "max"};
constexpr std::string_view kSlo[] = {"end_to_end_p99"};

}  // namespace

std::span<const std::string_view> spec_fields(SpecSection section) {
  switch (section) {
    case SpecSection::kTop: return kTop;
    case SpecSection::kKafka: return kKafka;
    case SpecSection::kStage: return kStage;
    case SpecSection::kSettings: return kSettings;
    case SpecSection::kHttp: return kHttp;
    case SpecSection::kDedupe: return kDedupe;
    case SpecSection::kGather: return kGather;
    case SpecSection::kRetry: return kRetry;
    case SpecSection::kCircuit: return kCircuit;
    case SpecSection::kBackpressure: return kBackpressure;
    case SpecSection::kScale: return kScale;
    case SpecSection::kSlo: return kSlo;
  }
  return {};
}

}  // namespace sluice::topics
