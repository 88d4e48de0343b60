// What the small producer tools of tests/support share: a producer from a
// few settings, and one record produced and waited for. Errors come back as
// text ("" when it worked), for the tool to print and exit 1.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {

struct ProducerDeleter {
  void operator()(rd_kafka_t* producer) const { rd_kafka_destroy(producer); }
};
using Producer = std::unique_ptr<rd_kafka_t, ProducerDeleter>;

// The delivery report of one record, into the rd_kafka_resp_err_t its
// produce call passed as the message's opaque.
inline void record_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  *static_cast<rd_kafka_resp_err_t*>(message->_private) = message->err;
}

inline std::string new_producer(const std::vector<std::pair<std::string, std::string>>& settings,
                                Producer* producer) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, setting] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), setting.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return error;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, record_delivery);
  // rd_kafka_new takes the conf only when it succeeds.
  producer->reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error)));
  if (!*producer) {
    rd_kafka_conf_destroy(conf);
    return error;
  }
  return "";
}

// Writes `value` byte for byte as one record and waits up to 30 s until the
// broker acknowledged it (a producer made by new_producer()).
inline std::string produce_one(rd_kafka_t* producer, const std::string& topic,
                               const std::string& key, const std::string& value) {
  rd_kafka_resp_err_t delivery = RD_KAFKA_RESP_ERR__IN_PROGRESS;
  rd_kafka_resp_err_t err = rd_kafka_producev(
      producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&delivery), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return "produce to " + topic + ": " + rd_kafka_err2str(err);
  }
  // A flush that returns leaves a failed record's error only in its report.
  err = rd_kafka_flush(producer, 30000);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = delivery;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return "deliver to " + topic + ": " + rd_kafka_err2str(err);
  }
  return "";
}

}  // namespace sluice::testing
