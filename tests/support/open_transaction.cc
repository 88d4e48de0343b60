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
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <random>
#include <string>

#include "one_record.h"

namespace {

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
  std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)>
      offsets(rd_kafka_topic_partition_list_new(1), &rd_kafka_topic_partition_list_destroy);
  rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), 0)->offset = offset;
  std::unique_ptr<rd_kafka_consumer_group_metadata_t,
                  decltype(&rd_kafka_consumer_group_metadata_destroy)>
      metadata(rd_kafka_consumer_group_metadata_new(group),
               &rd_kafka_consumer_group_metadata_destroy);
  return error_text(
      rd_kafka_send_offsets_to_transaction(producer, offsets.get(), metadata.get(), 30000));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice::testing;
  if (argc != 5 && argc != 7) {
    return fail(
        "usage: sluice_open_transaction BOOTSTRAP TOPIC KEY TIMEOUT_MS [GROUP OFFSET] < BYTES");
  }
  const std::string bootstrap = argv[1], topic = argv[2], key = argv[3], timeout = argv[4];
  std::string value(std::istreambuf_iterator<char>(std::cin), {});

  // A fresh id each run: a later run must not fence this one's transaction.
  std::string id = "sluice-open-transaction-" + std::to_string(std::random_device()());
  Producer producer;
  if (std::string e = new_producer({{"bootstrap.servers", bootstrap},
                                    {"transactional.id", id},
                                    {"transaction.timeout.ms", timeout}},
                                   &producer);
      !e.empty()) {
    return fail(e);
  }
  if (std::string e = error_text(rd_kafka_init_transactions(producer.get(), 30000)); !e.empty()) {
    return fail("init transactions on " + bootstrap + ": " + e);
  }
  if (std::string e = error_text(rd_kafka_begin_transaction(producer.get())); !e.empty()) {
    return fail("begin transaction: " + e);
  }
  if (std::string e = produce_one(producer.get(), topic, key, value); !e.empty()) {
    return fail(e + " (on " + bootstrap + ")");
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
