// A topic's configuration as its broker reports it (DescribeConfigs), for
// checks made before a worker relies on a topic: the changelog's retention.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <string>

#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice::engine {

// Every config entry of `topic` (name -> value; entries without a value are
// left out). Blocking, bounded by options.connect_timeout. Errors say which
// topic and broker; kNotFound when the topic does not exist.
Result<std::map<std::string, std::string>> describe_topic_config(rd_kafka_t* rk,
                                                                 const std::string& topic,
                                                                 const KafkaOptions& options);

}  // namespace sluice::engine
