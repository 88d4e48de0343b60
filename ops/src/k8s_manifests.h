// The Kubernetes manifests of `sluice k8s`: for a pipeline spec, a ConfigMap
// holding the spec file as it is, and per stage a Deployment of its workers
// and a KEDA ScaledObject that scales it on its group's lag.
//  - Deployment <p>-<stage>: `sluice run --stage STAGE` with /metrics,
//    /healthz (liveness) and /readyz (readiness: joined its group) on port
//    9400; terminationGracePeriodSeconds above the worker's 30 s shutdown
//    deadline, so that a scale-down drains and commits instead of being
//    killed; a stateful stage's store in an emptyDir (it is restored from
//    its changelog wherever the pod lands); the environment from the Secret
//    <p>-env when it exists (what the spec's ${VAR}s read).
//  - ScaledObject <p>-<stage>: kafka triggers on the stage's input and retry
//    topics for its group sluice.<p>.<stage>, lagThreshold from the spec's
//    lag_threshold, minReplicaCount scale.min and maxReplicaCount scale.max
//    capped at the stage's partitions.
#pragma once

#include <string>

#include "sluice/topics/spec.h"

namespace sluice::ops {

struct K8sOptions {
  std::string image = "sluice:latest";
  std::string namespace_name;  // empty: none set (kubectl's current one)
  std::string spec_text;       // the spec file's content, for the ConfigMap
  std::string spec_file_name = "pipeline.yaml";
};

// One YAML stream ("---"-separated documents).
std::string render_k8s(const topics::PipelineSpec& spec, const K8sOptions& options);

}  // namespace sluice::ops
