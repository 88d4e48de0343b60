#include "bench_kafka.h"

namespace sluice::bench {

namespace {
KafkaOptions options_for(const std::string& brokers, const Settings& properties = {}) {
  KafkaOptions options;
  options.bootstrap = brokers;
  options.client_id = "bench";
  options.properties = properties;
  return options;
}
}  // namespace

Result<Handle> plain_producer(const std::string& brokers,
                              const std::function<void(rd_kafka_conf_t*)>& customize) {
  engine::ClientSpec spec = engine::producer_spec();
  spec.customize = customize;
  return engine::make_client(options_for(brokers), std::move(spec));
}

Result<Handle> plain_consumer(const std::string& brokers, const std::string& group,
                              const Settings& extra) {
  engine::ClientSpec spec = engine::consumer_spec(group);
  spec.forced["enable.auto.offset.store"] = "true";  // the one difference (see header)
  return engine::make_client(options_for(brokers, extra), std::move(spec));
}

Result<Handle> query_handle(const std::string& brokers) {
  return engine::make_client(options_for(brokers), engine::ClientSpec{});
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
