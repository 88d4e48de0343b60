// `sluice k8s -f SPEC [--image IMG] [--namespace NS]`: prints the Kubernetes
// manifests of the pipeline (k8s_manifests.h) on stdout.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_support.h"
#include "commands.h"
#include "k8s_manifests.h"

namespace sluice::ops {

int k8s_command(const K8sCommandOptions& options) {
  auto spec = topics::load_spec_file(options.spec_path);
  if (!spec.is_ok()) return report(spec.status());
  if (spec->kafka.embedded()) {
    return report(usage_error(spec->file + ": brokers is embedded: pods need a real Kafka "
                                           "(brokers: ${KAFKA_BROKERS} keeps it out of the spec)"));
  }
  std::ifstream file(options.spec_path);
  std::stringstream text;
  text << file.rdbuf();
  K8sOptions k8s;
  k8s.image = options.image;
  k8s.namespace_name = options.namespace_name;
  k8s.spec_text = text.str();
  const std::string& brokers = spec->kafka.brokers;
  if (brokers.find("127.0.0.1") != std::string::npos ||
      brokers.find("localhost") != std::string::npos) {
    std::fprintf(stderr,
                 "sluice: warning: kafka.brokers is %s, which pods cannot reach; use the "
                 "cluster's bootstrap servers (brokers: ${KAFKA_BROKERS} reads them from the "
                 "environment)\n",
                 brokers.c_str());
  }
  if (Status s = write_line(render_k8s(*spec, k8s)); !s.is_ok() &&
                                                     s.code() != StatusCode::kCancelled) {
    return report(s);
  }
  return kExitOk;
}

}  // namespace sluice::ops
