#include "sluice/kafka_options.h"

#include <librdkafka/rdkafka.h>

namespace sluice {

KafkaOptions KafkaOptions::from_spec(const topics::KafkaSpec& kafka) {
  KafkaOptions options;
  options.bootstrap = kafka.brokers;
  options.properties = kafka.properties;
  return options;
}

const char* kafka_client_version() { return rd_kafka_version_str(); }

}  // namespace sluice
