#include "sluice/kafka_options.h"

namespace sluice {

KafkaOptions KafkaOptions::from_spec(const topics::KafkaSpec& kafka) {
  KafkaOptions options;
  options.bootstrap = kafka.brokers;
  options.properties = kafka.properties;
  return options;
}

}  // namespace sluice
