// The benchmark's librdkafka plumbing: clients, watermarks.
//
// Both sides of the comparison take their client settings from the engine's
// own ClientSpecs (engine/src/kafka_client.h), so "the same settings" holds by
// construction. The plain loop differs in one setting only: it lets
// librdkafka store each offset as poll() returns it
// (enable.auto.offset.store=true), the classic loop that commits what it
// consumed, acknowledged or not. Every function here blocks.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "kafka_client.h"
#include "kafka_handles.h"
#include "sluice/status.h"

namespace sluice::bench {

using Handle = engine::KafkaHandle;
using Message = engine::KafkaMessage;
using PartitionList = engine::PartitionList;
using Settings = std::map<std::string, std::string>;

// Sluice's producer; `customize` installs callbacks and an opaque.
Result<Handle> plain_producer(const std::string& brokers,
                              const std::function<void(rd_kafka_conf_t*)>& customize);
// Sluice's consumer settings plus `extra`, storing offsets as polled.
Result<Handle> plain_consumer(const std::string& brokers, const std::string& group,
                              const Settings& extra);
// A handle for metadata and watermark queries only.
Result<Handle> query_handle(const std::string& brokers);

Result<int64_t> sum_high_watermarks(rd_kafka_t* rk, const std::string& topic, int partitions);

// Asks for `topic`'s metadata, so that a producer knows the topic's
// partitions before its first record (as the Sluice worker does when it
// checks its topics); without it the first records wait for a refresh.
Status load_topic_metadata(rd_kafka_t* rk, const std::string& topic);

Status kafka_error(rd_kafka_resp_err_t err, const std::string& what);

}  // namespace sluice::bench
