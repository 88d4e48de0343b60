#include "bench_kafka.h"

namespace sluice::bench {

Settings producer_settings(const std::string& brokers) {
  // Mirrors engine/src/kafka_client.cc producer_spec().
  return {{"bootstrap.servers", brokers},
          {"client.id", "bench"},
          {"enable.idempotence", "true"},
          {"acks", "all"},
          {"linger.ms", "5"},
          {"partitioner", "murmur2_random"},
          {"socket.nagle.disable", "true"}};
}

Settings consumer_settings(const std::string& brokers, const std::string& group) {
  // Mirrors engine/src/kafka_client.cc consumer_spec(), but for
  // enable.auto.offset.store (see the header).
  return {{"bootstrap.servers", brokers},
          {"client.id", "bench"},
          {"group.id", group},
          {"partition.assignment.strategy", "roundrobin"},
          {"auto.offset.reset", "earliest"},
          {"session.timeout.ms", "10000"},
          {"queued.max.messages.kbytes", "32768"},
          {"socket.nagle.disable", "true"},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "true"},
          {"enable.partition.eof", "false"}};
}

Settings query_settings(const std::string& brokers) {
  return {{"bootstrap.servers", brokers}, {"client.id", "bench-watch"}};
}

Result<Handle> make_handle(rd_kafka_type_t type, const Settings& settings,
                           const std::function<void(rd_kafka_conf_t*)>& customize) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return usage_error("kafka property " + name + "=" + value + ": " + error);
    }
  }
  if (customize) customize(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof(error));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new owns conf only on success
    return fatal_error(std::string("cannot create Kafka client: ") + error);
  }
  return Handle(rk);
}

Result<int64_t> sum_high_watermarks(rd_kafka_t* rk, const std::string& topic, int partitions) {
  int64_t sum = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 5000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return kafka_error(err, "watermarks of " + topic + "[" + std::to_string(p) + "]");
    }
    sum += high;
  }
  return sum;
}

Status load_topic_metadata(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (handle == nullptr) return fatal_error("cannot make a topic handle for " + topic);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, 10000);
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error(err, "metadata for " + topic);
  bool found = metadata->topic_cnt == 1 && metadata->topics[0].err == 0;
  rd_kafka_metadata_destroy(metadata);
  return found ? Status::ok() : fatal_error("topic " + topic + " does not exist");
}

Status kafka_error(rd_kafka_resp_err_t err, const std::string& what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok();
  return fatal_error(what + ": " + rd_kafka_err2str(err));
}

}  // namespace sluice::bench
