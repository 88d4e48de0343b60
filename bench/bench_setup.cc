#include "bench_setup.h"

#include <cstdio>
#include <random>

#include "sluice/admin.h"
#include "sluice/submitter.h"

namespace sluice::bench {
namespace {

std::string spec_yaml(const SetupOptions& options, const std::string& pipeline,
                      const std::string& stage, const StageShape& shape) {
  std::string properties;
  for (const auto& [name, value] : options.properties) {
    properties += "    \"" + name + "\": \"" + value + "\"\n";
  }
  return "pipeline: " + pipeline + "\n" + "kafka:\n  brokers: \"" + options.brokers + "\"\n" +
         (properties.empty() ? "" : "  properties:\n" + properties) +
         "defaults:\n  partitions: " + std::to_string(options.partitions) + "\n" +
         "stages:\n  - name: " + stage + "\n    kind: builtin\n" +
         "    builtin: " + shape.builtin + "\n" +
         "    concurrency: " + std::to_string(options.concurrency) + "\n" +
         (shape.state ? "    state: true\n    retry: {mode: in_place}\n"
                      : options.retry.empty() ? "" : "    retry: " + options.retry + "\n");
}

// A JSON object of about `bytes` bytes: a sequence number, the key, filler.
std::string make_payload(int64_t seq, const std::string& key, size_t bytes) {
  static const std::string kWords =
      "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod ";
  std::string json = "{\"seq\":" + std::to_string(seq) + ",\"user\":\"" + key + "\",\"text\":\"";
  while (json.size() + 2 < bytes) json += kWords[(json.size() + seq) % kWords.size()];
  return json + "\"}";
}

}  // namespace

std::string random_pipeline_name() {
  std::random_device device;
  char name[32];
  std::snprintf(name, sizeof(name), "bench-%08x", static_cast<unsigned>(device()));
  return name;
}

Result<topics::PipelineSpec> make_pipeline(const SetupOptions& options, const std::string& pipeline,
                                           const std::string& stage, const StageShape& shape) {
  auto spec = topics::parse_spec(spec_yaml(options, pipeline, stage, shape), "<benchmark>");
  if (!spec.is_ok()) return spec.status();
  auto applied = apply_topics(*spec, KafkaOptions::from_spec(spec->kafka));
  if (!applied.is_ok()) return applied.status();
  if (!applied->differences.empty()) {
    return fatal_error("topics of " + pipeline + " differ: " + applied->differences.front());
  }
  return spec;
}

Status preload(const topics::PipelineSpec& spec, const PreloadOptions& options) {
  auto submitter = JobSubmitter::create(spec, KafkaOptions::from_spec(spec.kafka));
  if (!submitter.is_ok()) return submitter.status();
  Job job;
  for (int64_t seq = 0; seq < options.records; ++seq) {
    // Stepping by a prime spreads consecutive jobs over distinct keys.
    job.key = "user-" + std::to_string((seq * 7919) % options.keys);
    job.payload = make_payload(seq, *job.key, options.payload_bytes);
    auto id = (*submitter)->submit(job);
    if (!id.is_ok()) return id.status();
  }
  return (*submitter)->flush(std::chrono::minutes(2));
}

}  // namespace sluice::bench
