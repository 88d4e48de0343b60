// What a cluster says about its topics, for the clients outside the worker
// (topic provisioning, the submitter, the inspector, the topic reader).
//
// Always one all-topics Metadata request, never a request naming a topic:
// from a producer handle a named request may auto-create that topic on
// brokers with auto.create.topics.enable, and Sluice creates topics only in
// `sluice topics apply`. Blocking, bounded by options.connect_timeout.
#pragma once

#include <map>
#include <string>

#include "kafka_client.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice::engine {

struct TopicInfo {
  int partitions = 0;
  int replication = 0;  // replicas of partition 0
};

// Topics that exist and answer without a topic-level error, by name.
using TopicMap = std::map<std::string, TopicInfo>;

Result<TopicMap> describe_topics(rd_kafka_t* rk, const KafkaOptions& options);

// One metadata answer whole: its topics, which broker gave it, and the
// brokers it lists ("host:port" by node id).
struct ClusterView {
  TopicMap topics;
  int32_t answered_by = -1;
  std::map<int32_t, std::string> brokers;
};

Result<ClusterView> describe_cluster(rd_kafka_t* rk, const KafkaOptions& options);

// The partition count of `topic`; kNotFound "topic NAME does not exist on
// HOST:PORT" when the cluster does not list it.
Result<int32_t> topic_partitions(rd_kafka_t* rk, const KafkaOptions& options,
                                 const std::string& topic);

using DeliveryCallback = void (*)(rd_kafka_t*, const rd_kafka_message_t*, void*);
// The producer of a command-line tool (submit, dlq replay): Sluice's
// producer settings, but each record given up after 30 s unless
// kafka.properties says otherwise, so a lost broker ends a flush in bounded
// time; delivery reports go to `on_delivery` with `opaque`.
ClientSpec tool_producer_spec(void* opaque, DeliveryCallback on_delivery);

// make_client, then check_reachable: an unreachable broker fails here, with
// check_reachable's one-line message, within options.connect_timeout.
Result<KafkaHandle> connect_client(const KafkaOptions& options, ClientSpec spec);

}  // namespace sluice::engine
