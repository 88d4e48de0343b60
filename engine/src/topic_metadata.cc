#include "topic_metadata.h"

#include "kafka_errors.h"

namespace sluice::engine {

Result<ClusterView> describe_cluster(rd_kafka_t* rk, const KafkaOptions& options) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(
      rk, /*all_topics=*/1, nullptr, &raw,
      static_cast<int>(options.connect_timeout.count()));
  Metadata metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka_status(err, "cannot list topics on Kafka at " + options.bootstrap +
                                 " within " +
                                 std::to_string(options.connect_timeout.count() / 1000) +
                                 "s");
  }
  ClusterView view;
  view.answered_by = metadata->orig_broker_id;
  for (int i = 0; i < metadata->broker_cnt; ++i) {
    const rd_kafka_metadata_broker_t& broker = metadata->brokers[i];
    view.brokers[broker.id] = std::string(broker.host) + ":" + std::to_string(broker.port);
  }
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    // A topic being created or deleted can be listed with an error (e.g.
    // LEADER_NOT_AVAILABLE) and no partitions: it is not usable yet.
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || topic.partition_cnt == 0) {
      continue;
    }
    view.topics[topic.topic] = {topic.partition_cnt, topic.partitions[0].replica_cnt};
  }
  return view;
}

Result<TopicMap> describe_topics(rd_kafka_t* rk, const KafkaOptions& options) {
  auto view = describe_cluster(rk, options);
  if (!view.is_ok()) return view.status();
  return std::move(view->topics);
}

Result<int32_t> topic_partitions(rd_kafka_t* rk, const KafkaOptions& options,
                                 const std::string& topic) {
  auto topics = describe_topics(rk, options);
  if (!topics.is_ok()) return topics.status();
  auto it = topics->find(topic);
  if (it == topics->end()) {
    return not_found("topic " + topic + " does not exist on " + options.bootstrap);
  }
  return static_cast<int32_t>(it->second.partitions);
}

ClientSpec tool_producer_spec(void* opaque, DeliveryCallback on_delivery) {
  ClientSpec spec = producer_spec();
  spec.defaults["message.timeout.ms"] = "30000";
  spec.customize = [opaque, on_delivery](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  };
  return spec;
}

Result<KafkaHandle> connect_client(const KafkaOptions& options, ClientSpec spec) {
  auto client = make_client(options, std::move(spec));
  if (!client.is_ok()) return client.status();
  if (Status s = check_reachable(client->get(), options); !s.is_ok()) return s;
  return client;
}

}  // namespace sluice::engine
