#include "k8s_manifests.h"

#include <yaml-cpp/yaml.h>

#include "sluice/topics/names.h"

namespace sluice::ops {
namespace {

constexpr int kMetricsPort = 9400;
constexpr const char* kSpecDir = "/etc/sluice";
constexpr const char* kStateDir = "/var/lib/sluice";
// The worker's shutdown deadline (WorkerOptions) is 30 s; the margin covers
// closing the consumer and producer after it.
constexpr int kGracePeriodSeconds = 45;

std::string resource_name(const std::string& pipeline, const std::string& stage) {
  return pipeline + "-" + stage;
}

std::string env_secret_name(const std::string& pipeline) { return pipeline + "-env"; }

void metadata(YAML::Emitter& out, const std::string& name, const topics::PipelineSpec& spec,
              const std::string& stage, const K8sOptions& options) {
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << name;
  if (!options.namespace_name.empty()) {
    out << YAML::Key << "namespace" << YAML::Value << options.namespace_name;
  }
  out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "app.kubernetes.io/name" << YAML::Value << "sluice";
  out << YAML::Key << "app.kubernetes.io/part-of" << YAML::Value << spec.pipeline;
  if (!stage.empty()) out << YAML::Key << "app.kubernetes.io/component" << YAML::Value << stage;
  out << YAML::EndMap << YAML::EndMap;
}

void selector_labels(YAML::Emitter& out, const topics::PipelineSpec& spec,
                     const std::string& stage) {
  out << YAML::BeginMap;
  out << YAML::Key << "app.kubernetes.io/part-of" << YAML::Value << spec.pipeline;
  out << YAML::Key << "app.kubernetes.io/component" << YAML::Value << stage;
  out << YAML::EndMap;
}

void config_map(YAML::Emitter& out, const topics::PipelineSpec& spec, const K8sOptions& options) {
  out << YAML::BeginDoc << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "ConfigMap";
  metadata(out, spec.pipeline + "-spec", spec, "", options);
  out << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << options.spec_file_name << YAML::Value << YAML::Literal << options.spec_text;
  out << YAML::EndMap << YAML::EndMap;
}

void probe(YAML::Emitter& out, const char* key, const char* path, int period, int failures) {
  out << YAML::Key << key << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "httpGet" << YAML::Value << YAML::BeginMap << YAML::Key << "path"
      << YAML::Value << path << YAML::Key << "port" << YAML::Value << "metrics" << YAML::EndMap;
  out << YAML::Key << "periodSeconds" << YAML::Value << period;
  out << YAML::Key << "failureThreshold" << YAML::Value << failures;
  out << YAML::EndMap;
}

void container(YAML::Emitter& out, const std::string& spec_pipeline,
               const topics::StageSpec& stage, const K8sOptions& options) {
  std::vector<std::string> args = {"run", "-f", std::string(kSpecDir) + "/" + options.spec_file_name,
                                   "--stage", stage.name, "--metrics-addr",
                                   "0.0.0.0:" + std::to_string(kMetricsPort)};
  if (stage.state) {
    args.push_back("--state-dir");
    args.push_back(kStateDir);
  }
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "worker";
  out << YAML::Key << "image" << YAML::Value << options.image;
  out << YAML::Key << "command" << YAML::Value << YAML::Flow << std::vector<std::string>{"sluice"};
  out << YAML::Key << "args" << YAML::Value << YAML::Flow << args;
  // The variables the spec's ${VAR}s read (brokers, SASL credentials, API
  // keys), from a Secret the user creates; none needed if it does not exist.
  out << YAML::Key << "envFrom" << YAML::Value << YAML::BeginSeq << YAML::BeginMap << YAML::Key
      << "secretRef" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value
      << env_secret_name(spec_pipeline) << YAML::Key << "optional" << YAML::Value << true
      << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq << YAML::BeginMap << YAML::Key
      << "name" << YAML::Value << "metrics" << YAML::Key << "containerPort" << YAML::Value
      << kMetricsPort << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "requests" << YAML::Value << YAML::BeginMap << YAML::Key << "cpu"
      << YAML::Value << "250m" << YAML::Key << "memory" << YAML::Value << "256Mi" << YAML::EndMap;
  // Above the worker's default memory bounds (bench/README.md, flood).
  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap << YAML::Key << "memory"
      << YAML::Value << "512Mi" << YAML::EndMap;
  out << YAML::EndMap;
  probe(out, "livenessProbe", "/healthz", 10, 3);
  probe(out, "readinessProbe", "/readyz", 5, 3);
  out << YAML::Key << "volumeMounts" << YAML::Value << YAML::BeginSeq;
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "spec" << YAML::Key
      << "mountPath" << YAML::Value << kSpecDir << YAML::Key << "readOnly" << YAML::Value << true
      << YAML::EndMap;
  if (stage.state) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "state" << YAML::Key
        << "mountPath" << YAML::Value << kStateDir << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
}

void deployment(YAML::Emitter& out, const topics::PipelineSpec& spec,
                const topics::StageSpec& stage, const K8sOptions& options) {
  std::string name = resource_name(spec.pipeline, stage.name);
  out << YAML::BeginDoc << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "apps/v1";
  out << YAML::Key << "kind" << YAML::Value << "Deployment";
  metadata(out, name, spec, stage.name, options);
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "replicas" << YAML::Value << std::max(1, stage.scale.min);
  out << YAML::Key << "selector" << YAML::Value << YAML::BeginMap << YAML::Key << "matchLabels"
      << YAML::Value;
  selector_labels(out, spec, stage.name);
  out << YAML::EndMap;
  out << YAML::Key << "template" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "labels"
      << YAML::Value;
  selector_labels(out, spec, stage.name);
  // Annotation values are strings: quoted, or YAML reads a bool and an int.
  out << YAML::Key << "annotations" << YAML::Value << YAML::BeginMap << YAML::Key
      << "prometheus.io/scrape" << YAML::Value << YAML::DoubleQuoted << "true" << YAML::Key
      << "prometheus.io/port" << YAML::Value << YAML::DoubleQuoted
      << std::to_string(kMetricsPort) << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "terminationGracePeriodSeconds" << YAML::Value << kGracePeriodSeconds;
  out << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq;
  container(out, spec.pipeline, stage, options);
  out << YAML::EndSeq;
  out << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq;
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "spec" << YAML::Key
      << "configMap" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value
      << spec.pipeline + "-spec" << YAML::EndMap << YAML::EndMap;
  if (stage.state) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "state" << YAML::Key
        << "emptyDir" << YAML::Value << YAML::BeginMap << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap;
}

void kafka_trigger(YAML::Emitter& out, const topics::PipelineSpec& spec,
                   const topics::StageSpec& stage, const std::string& topic) {
  out << YAML::BeginMap;
  out << YAML::Key << "type" << YAML::Value << "kafka";
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "bootstrapServers" << YAML::Value << spec.kafka.brokers;
  out << YAML::Key << "consumerGroup" << YAML::Value << topics::group_id(spec.pipeline, stage.name);
  out << YAML::Key << "topic" << YAML::Value << topic;
  // KEDA's trigger metadata is a map of strings.
  out << YAML::Key << "lagThreshold" << YAML::Value << YAML::DoubleQuoted
      << std::to_string(stage.lag_threshold_or_default());
  out << YAML::Key << "offsetResetPolicy" << YAML::Value << "earliest";
  out << YAML::EndMap << YAML::EndMap;
}

void scaled_object(YAML::Emitter& out, const topics::PipelineSpec& spec,
                   const topics::StageSpec& stage, const K8sOptions& options) {
  std::string name = resource_name(spec.pipeline, stage.name);
  out << YAML::BeginDoc << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "keda.sh/v1alpha1";
  out << YAML::Key << "kind" << YAML::Value << "ScaledObject";
  metadata(out, name, spec, stage.name, options);
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "scaleTargetRef" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
      << YAML::Value << name << YAML::EndMap;
  out << YAML::Key << "minReplicaCount" << YAML::Value << stage.scale.min;
  out << YAML::Key << "maxReplicaCount" << YAML::Value << stage.scale.max_for(stage.partitions);
  out << YAML::Key << "cooldownPeriod" << YAML::Value << 300;
  out << YAML::Key << "triggers" << YAML::Value << YAML::BeginSeq;
  kafka_trigger(out, spec, stage, topics::input_topic(spec, stage));
  kafka_trigger(out, spec, stage, topics::retry_topic(spec.pipeline, stage.name));
  out << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
}

}  // namespace

std::string render_k8s(const topics::PipelineSpec& spec, const K8sOptions& options) {
  YAML::Emitter out;
  config_map(out, spec, options);
  for (const topics::StageSpec& stage : spec.stages) {
    deployment(out, spec, stage, options);
    scaled_object(out, spec, stage, options);
  }
  return std::string(out.c_str()) + "\n";
}

}  // namespace sluice::ops
