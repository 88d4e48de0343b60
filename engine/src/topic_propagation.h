// Waiting for new topics to reach every broker of a cluster.
//
// A broker learns of a new topic from the cluster's metadata log at its own
// pace (KRaft): one broker can list a topic another does not know yet, and a
// client bootstrapped from that other finds the topic missing (seen on the
// 3-node cluster under load: a worker started right after `topics apply`
// stopped with "topic ... does not exist"). A metadata request goes to one
// broker of librdkafka's choosing, so one client's view proves nothing about
// the rest: each broker is asked through a client of its own.
#pragma once

#include <string>
#include <vector>

#include "topic_metadata.h"

namespace sluice::engine {

// Returns once every broker that `rk`'s metadata lists also lists every
// topic of `names`, with the last such answer; else, by
// kafka.connect_timeout, kTransient naming the first broker that did not
// ("broker 2 at HOST:PORT did not list NAME within 10s").
Result<TopicMap> wait_until_every_broker_lists(rd_kafka_t* rk,
                                               const std::vector<std::string>& names,
                                               const KafkaOptions& kafka);

}  // namespace sluice::engine
