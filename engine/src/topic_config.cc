#include "topic_config.h"

#include "kafka_errors.h"
#include "kafka_handles.h"

namespace sluice::engine {
namespace {

struct ConfigResourceDeleter {
  void operator()(rd_kafka_ConfigResource_t* resource) const {
    rd_kafka_ConfigResource_destroy(resource);
  }
};
using ConfigResource = std::unique_ptr<rd_kafka_ConfigResource_t, ConfigResourceDeleter>;

Result<AdminOptions> describe_options(rd_kafka_t* rk, std::chrono::milliseconds timeout) {
  AdminOptions options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS));
  char error[512];
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()),
                                                error, sizeof(error))) {
    return usage_error(std::string("admin options: ") + error);
  }
  return options;
}

}  // namespace

Result<std::map<std::string, std::string>> describe_topic_config(rd_kafka_t* rk,
                                                                 const std::string& topic,
                                                                 const KafkaOptions& options) {
  std::string what = "describe the config of topic " + topic + " on " + options.bootstrap;
  auto admin = describe_options(rk, options.connect_timeout);
  if (!admin.is_ok()) return admin.status();
  ConfigResource resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  KafkaQueue queue(rd_kafka_queue_new(rk));
  rd_kafka_DescribeConfigs(rk, resources, 1, admin->get(), queue.get());
  // librdkafka answers by the request timeout; twice that only guards
  // against waiting forever on a bug.
  KafkaEvent event(rd_kafka_queue_poll(
      queue.get(), static_cast<int>(2 * options.connect_timeout.count() + 1000)));
  if (!event) return transient_error(what + ": no answer");
  if (Status s = kafka_status(rd_kafka_event_error(event.get()), what); !s.is_ok()) return s;
  size_t count = 0;
  const rd_kafka_ConfigResource_t** results = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  if (count != 1) return transient_error(what + ": " + std::to_string(count) + " results");
  if (Status s = kafka_status(rd_kafka_ConfigResource_error(results[0]), what); !s.is_ok()) {
    return s;
  }
  std::map<std::string, std::string> config;
  size_t entries = 0;
  const rd_kafka_ConfigEntry_t** entry = rd_kafka_ConfigResource_configs(results[0], &entries);
  for (size_t i = 0; i < entries; ++i) {
    const char* value = rd_kafka_ConfigEntry_value(entry[i]);
    if (value != nullptr) config[rd_kafka_ConfigEntry_name(entry[i])] = value;
  }
  return config;
}

}  // namespace sluice::engine
