// One rd_kafka_ListOffsets request for many partitions: librdkafka sends one
// ListOffsets per partition leader, where rd_kafka_query_watermark_offsets
// makes two round trips per partition.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "sluice/status.h"

namespace sluice::engine {

using PartitionOffsetMap = std::map<std::pair<std::string, int32_t>, int64_t>;

// The offset each partition of `partitions` has for `spec`
// (RD_KAFKA_OFFSET_SPEC_EARLIEST or _LATEST), as a reader of `isolation`
// sees it. Bounded by `timeout`; a partition's transient error (a leader
// moving, a topic just created) is asked again until the timeout. The
// partitions are of topics the cluster lists, so "unknown topic" counts as
// transient too. `where` names the cluster in errors.
Result<PartitionOffsetMap> list_offsets(rd_kafka_t* rk,
                                        const rd_kafka_topic_partition_list_t& partitions,
                                        rd_kafka_OffsetSpec_t spec,
                                        rd_kafka_IsolationLevel_t isolation,
                                        std::chrono::milliseconds timeout,
                                        const std::string& where);

}  // namespace sluice::engine
