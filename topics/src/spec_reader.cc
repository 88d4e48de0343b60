#include "spec_reader.h"

#include <string_view>

#include "settings_reader.h"
#include "sluice/topics/env_expand.h"
#include "sluice/topics/spec_fields.h"
#include "spec_field.h"
#include "stage_reader.h"

namespace sluice::topics {
namespace {

// librdkafka takes every property as a string; YAML's `5` or `true` are
// passed on as written, after ${VAR} substitution (secrets stay in the
// environment).
Status read_properties(const Field& f, KafkaSpec& kafka) {
  Status s = expect_map(f);
  for (size_t i = 0; s.is_ok() && i < f.node->entries.size(); ++i) {
    const YamlEntry& e = f.node->entries[i];
    Result<std::string> value = read_expanded(f.entry(e));
    if (value.is_ok()) kafka.properties[e.key] = std::move(value).value();
    s = value.status();
  }
  return s;
}

Status read_kafka(const Field& f, KafkaSpec& kafka) {
  Status s = check_map(f, spec_fields(SpecSection::kKafka));
  if (!s.is_ok()) return s;
  if (const YamlEntry* e = f.find("brokers")) {
    // ${VAR}-expanded, so that one spec serves several environments
    // (`brokers: ${KAFKA_BROKERS}` in a Kubernetes ConfigMap).
    Result<std::string> brokers = read_expanded(f.entry(*e));
    if (!brokers.is_ok()) return brokers.status();
    if (brokers->empty()) return f.entry(*e).error("must not be empty");
    kafka.brokers = std::move(brokers).value();
  }
  const YamlEntry* e = f.find("properties");
  return e == nullptr ? Status::ok() : read_properties(f.entry(*e), kafka);
}

// The built-in values of StageSpec, overridden by `defaults`.
Status read_defaults(const Field& f, StageSpec& defaults) {
  Status s = check_map(f, setting_keys());
  SettingsBlame blame;
  for (size_t i = 0; s.is_ok() && i < f.node->entries.size(); ++i) {
    s = read_setting(f, f.node->entries[i], defaults, blame);
  }
  return s.is_ok() ? check_settings(defaults, blame) : s;
}

Status read_stages(const Field& f, const StageSpec& defaults, ReadSpec& out) {
  if (f.node->kind != YamlNode::Kind::kSequence || f.node->items.empty()) {
    return f.error("expected a non-empty list of stages");
  }
  for (size_t i = 0; i < f.node->items.size(); ++i) {
    Result<ReadStage> stage = read_stage(f.item(i), defaults);
    if (!stage.is_ok()) return stage.status();
    for (const YamlEntry& e : f.node->items[i].entries) stage->spec.key_lines[e.key] = e.line;
    out.spec.stages.push_back(std::move(stage->spec));
    out.source.stages.push_back(std::move(stage->source));
  }
  return Status::ok();
}

Status read_pipeline_name(const Field& root, PipelineSpec& spec) {
  const YamlEntry* e = root.find("pipeline");
  if (e == nullptr) return root.missing("pipeline", "name the pipeline ([a-z0-9-]+)");
  Result<std::string> name = read_name(root.entry(*e));
  if (name.is_ok()) spec.pipeline = std::move(name).value();
  return name.status();
}

// Defaults first: stages are read on top of them, wherever they sit in the file.
Status read_sections(const Field& root, ReadSpec& out) {
  Status s = read_pipeline_name(root, out.spec);
  const YamlEntry* kafka = root.find("kafka");
  if (s.is_ok() && kafka != nullptr) s = read_kafka(root.entry(*kafka), out.spec.kafka);
  StageSpec defaults;
  const YamlEntry* defaults_entry = root.find("defaults");
  if (s.is_ok() && defaults_entry != nullptr) {
    s = read_defaults(root.entry(*defaults_entry), defaults);
  }
  if (!s.is_ok()) return s;
  const YamlEntry* stages = root.find("stages");
  if (stages == nullptr) return root.missing("stages", "a pipeline needs at least one stage");
  return read_stages(root.entry(*stages), defaults, out);
}

}  // namespace

Result<ReadSpec> read_spec(const YamlNode& root, const std::string& file) {
  Field top = Field::root(file, root);
  Status s = check_map(top, spec_fields(SpecSection::kTop));
  if (!s.is_ok()) return s;
  ReadSpec out;
  out.spec.file = file;
  out.source.file = file;
  s = read_sections(top, out);
  if (!s.is_ok()) return s;
  return out;
}

}  // namespace sluice::topics
