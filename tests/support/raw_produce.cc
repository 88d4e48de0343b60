// sluice_raw_produce BOOTSTRAP TOPIC KEY < BYTES: writes stdin, byte for byte,
// as one record's value, as a foreign producer would (no envelope), and exits
// 0 once the broker acknowledged it. Integration tests use it to put garbage on
// stage and retry topics; Kafka's console producer cannot send arbitrary bytes
// (it reads lines of text) and the kafka4 jar cache has no tools jar.
#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

namespace {

struct ProducerDeleter {
  void operator()(rd_kafka_t* producer) const { rd_kafka_destroy(producer); }
};

// Set by the delivery report: a flush that returns leaves a failed record's
// error only here.
rd_kafka_resp_err_t delivery = RD_KAFKA_RESP_ERR__IN_PROGRESS;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  delivery = message->err;
}

int fail(const std::string& what) {
  std::cerr << "sluice_raw_produce: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return fail("usage: sluice_raw_produce BOOTSTRAP TOPIC KEY < BYTES");
  const std::string bootstrap = argv[1], topic = argv[2], key = argv[3];
  std::string value(std::istreambuf_iterator<char>(std::cin), {});

  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error)) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return fail(error);
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  // rd_kafka_new takes the conf only when it succeeds.
  std::unique_ptr<rd_kafka_t, ProducerDeleter> producer(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error)));
  if (!producer) {
    rd_kafka_conf_destroy(conf);
    return fail(error);
  }
  rd_kafka_resp_err_t err = rd_kafka_producev(
      producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return fail("produce to " + topic + ": " + rd_kafka_err2str(err));
  }
  err = rd_kafka_flush(producer.get(), 30000);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = delivery;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return fail("deliver to " + topic + " on " + bootstrap + ": " + rd_kafka_err2str(err));
  }
  return 0;
}
