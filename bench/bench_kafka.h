// The benchmark's own librdkafka plumbing: handles, settings, watermarks.
//
// The plain consume-produce loop must not borrow Sluice's internals (that
// would not be a plain loop), so this header restates the client settings of
// engine/src/kafka_client.cc (producer_spec(), consumer_spec()) in one place,
// for both sides of the comparison to share. Keep the two in step: the
// benchmark is only fair while they match. Handles are owned by unique_ptrs;
// every function here is blocking and may be called from any one thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/status.h"

namespace sluice::bench {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

using Settings = std::vector<std::pair<std::string, std::string>>;

// Sluice's producer settings: idempotent, acks=all, linger.ms=5,
// murmur2_random, Nagle off.
Settings producer_settings(const std::string& brokers);
// Sluice's consumer settings, except that the plain loop lets librdkafka
// store each offset as poll() returns it (enable.auto.offset.store=true):
// the classic loop, which commits what it consumed, acknowledged or not.
Settings consumer_settings(const std::string& brokers, const std::string& group);
// A handle for metadata and watermark queries only.
Settings query_settings(const std::string& brokers);

// Creates a handle; `customize` may install callbacks and an opaque.
Result<Handle> make_handle(rd_kafka_type_t type, const Settings& settings,
                           const std::function<void(rd_kafka_conf_t*)>& customize = {});

// Sum over partitions 0..partitions-1 of `topic`'s high watermark: the
// number of records ever written to it (no transactions, no deletions here).
Result<int64_t> sum_high_watermarks(rd_kafka_t* rk, const std::string& topic, int partitions);

// Asks for `topic`'s metadata, so that a producer knows the topic's
// partitions before its first record (as the Sluice worker does when it
// checks its topics); without it the first records wait for a refresh.
Status load_topic_metadata(rd_kafka_t* rk, const std::string& topic);

Status kafka_error(rd_kafka_resp_err_t err, const std::string& what);

}  // namespace sluice::bench
