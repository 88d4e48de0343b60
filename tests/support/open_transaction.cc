// sluice_open_transaction BOOTSTRAP TOPIC KEY TIMEOUT_MS [GROUP OFFSET] < BYTES: begins a
// transaction, writes stdin byte for byte as one record's value into it,
// waits until the broker has the record, and exits without committing or
// aborting, as a transactional producer killed -9 mid-transaction would: the
// partition keeps a transaction open (read_committed readers stop before
// it) until the broker aborts it, TIMEOUT_MS (transaction.timeout.ms, at
// least 1000) plus up to its abort check interval (10 s by default) later.
// With GROUP OFFSET, the transaction also holds a commit of OFFSET on
// TOPIC/0 for consumer group GROUP (send_offsets_to_transaction): the broker
// keeps that offset pending, as a worker's, until the transaction ends.
// Integration tests use it to give `sluice verify` and `sluice status` an
// open transaction.
#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <utility>

namespace {

struct ProducerDeleter {
  void operator()(rd_kafka_t* producer) const { rd_kafka_destroy(producer); }
};

int fail(const std::string& what) {
  std::cerr << "sluice_open_transaction: " << what << "\n";
  return 1;
}

// The error of a transactional call, destroyed here; "" when it succeeded.
std::string error_text(rd_kafka_error_t* error) {
  if (error == nullptr) return "";
  std::string text = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  return text;
}

// Adds a commit of `offset` on topic/0 for `group` to the open transaction.
std::string send_offset(rd_kafka_t* producer, const char* group, const std::string& topic,
                        int64_t offset) {
  rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(offsets, topic.c_str(), 0)->offset = offset;
  rd_kafka_consumer_group_metadata_t* metadata = rd_kafka_consumer_group_metadata_new(group);
  std::string e = error_text(rd_kafka_send_offsets_to_transaction(producer, offsets, metadata, 30000));
  rd_kafka_consumer_group_metadata_destroy(metadata);
  rd_kafka_topic_partition_list_destroy(offsets);
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 7) {
    return fail("usage: sluice_open_transaction BOOTSTRAP TOPIC KEY TIMEOUT_MS [GROUP OFFSET] < BYTES");
  }
  const std::string bootstrap = argv[1], topic = argv[2], key = argv[3], timeout = argv[4];
  std::string value(std::istreambuf_iterator<char>(std::cin), {});

  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // A fresh id each run: a later run must not fence this one's transaction.
  std::string id = "sluice-open-transaction-" + std::to_string(std::random_device()());
  const std::pair<std::string, std::string> settings[] = {
      {"bootstrap.servers", bootstrap}, {"transactional.id", id}, {"transaction.timeout.ms", timeout}};
  for (const auto& [name, setting] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), setting.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return fail(error);
    }
  }
  // rd_kafka_new takes the conf only when it succeeds.
  std::unique_ptr<rd_kafka_t, ProducerDeleter> producer(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error)));
  if (!producer) {
    rd_kafka_conf_destroy(conf);
    return fail(error);
  }
  if (std::string e = error_text(rd_kafka_init_transactions(producer.get(), 30000)); !e.empty()) {
    return fail("init transactions on " + bootstrap + ": " + e);
  }
  if (std::string e = error_text(rd_kafka_begin_transaction(producer.get())); !e.empty()) {
    return fail("begin transaction: " + e);
  }
  rd_kafka_resp_err_t err = rd_kafka_producev(
      producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return fail("produce to " + topic + ": " + rd_kafka_err2str(err));
  }
  // A flush inside a transaction waits for the record's acknowledgement.
  if (err = rd_kafka_flush(producer.get(), 30000); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return fail("deliver to " + topic + " on " + bootstrap + ": " + rd_kafka_err2str(err));
  }
  if (argc == 7) {
    if (std::string e = send_offset(producer.get(), argv[5], topic, std::atoll(argv[6]));
        !e.empty()) {
      return fail("send offsets of group " + std::string(argv[5]) + ": " + e);
    }
  }
  std::fflush(nullptr);
  std::_Exit(0);  // no commit, no abort, no goodbye to the coordinator
}
