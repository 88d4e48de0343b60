// KafkaOptions: where the broker is and how to talk to it.
//
// `bootstrap` is a resolved bootstrap.servers list (for the embedded broker,
// the address of the in-process mock cluster). `properties` are passed to
// librdkafka as-is (security.protocol, sasl.*, ssl.*, ...), after Sluice's own
// defaults, so users can tune anything that does not break delivery
// guarantees; properties that would (auto commit, offset store) are refused.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "sluice/topics/spec.h"

namespace sluice {

struct KafkaOptions {
  std::string bootstrap;
  std::map<std::string, std::string> properties;
  std::string client_id = "sluice";
  // How long to wait for a broker to answer before giving up with a clear
  // error (connect checks, metadata, admin calls).
  std::chrono::milliseconds connect_timeout{10000};

  static KafkaOptions from_spec(const topics::KafkaSpec& kafka);
};

// The version of the librdkafka this binary runs with (rd_kafka_version_str()).
const char* kafka_client_version();

}  // namespace sluice
