// produce_raw(): writes one record as a foreign producer would, bypassing
// Sluice's submitter, so tests can put exactly the bytes they mean on a topic
// (foreign bytes, hand-built envelopes). Blocks until acknowledged.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>

namespace sluice::testing {

inline void produce_raw(const std::string& bootstrap, const std::string& topic,
                        const std::string& key, const std::string& value) {
  char error[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error)),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  ASSERT_NE(producer, nullptr) << error;
  EXPECT_EQ(rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()),
                              RD_KAFKA_V_KEY(key.data(), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(rd_kafka_flush(producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(producer);
}

}  // namespace sluice::testing
