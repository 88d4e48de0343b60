#include "list_offsets.h"

#include <thread>

#include "kafka_errors.h"
#include "kafka_handles.h"

namespace sluice::engine {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kTransientPause{100};

Result<AdminOptions> list_options(rd_kafka_t* rk, rd_kafka_IsolationLevel_t isolation,
                                  std::chrono::milliseconds timeout) {
  AdminOptions options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTOFFSETS));
  char error[512];
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()),
                                                error, sizeof(error))) {
    return usage_error(std::string("admin options: ") + error);
  }
  if (KafkaError e(rd_kafka_AdminOptions_set_isolation_level(options.get(), isolation)); e) {
    return kafka_status(e.get(), "admin options");
  }
  return options;
}

Result<PartitionOffsetMap> list_once(rd_kafka_t* rk,
                                     const rd_kafka_topic_partition_list_t& partitions,
                                     rd_kafka_OffsetSpec_t spec,
                                     rd_kafka_IsolationLevel_t isolation,
                                     std::chrono::milliseconds timeout, const std::string& what) {
  auto options = list_options(rk, isolation, timeout);
  if (!options.is_ok()) return options.status();
  PartitionList request(rd_kafka_topic_partition_list_copy(&partitions));
  for (int i = 0; i < request->cnt; ++i) request->elems[i].offset = spec;
  KafkaQueue queue(rd_kafka_queue_new(rk));
  rd_kafka_ListOffsets(rk, request.get(), options->get(), queue.get());
  // librdkafka answers by the request timeout; twice that guards against a bug.
  KafkaEvent event(rd_kafka_queue_poll(queue.get(), static_cast<int>(2 * timeout.count() + 1000)));
  if (!event) return transient_error(what + ": no answer");
  if (Status s = kafka_status(rd_kafka_event_error(event.get()), what); !s.is_ok()) return s;
  size_t count = 0;
  const rd_kafka_ListOffsetsResultInfo_t** infos =
      rd_kafka_ListOffsets_result_infos(rd_kafka_event_ListOffsets_result(event.get()), &count);
  PartitionOffsetMap offsets;
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_topic_partition_t* p = rd_kafka_ListOffsetsResultInfo_topic_partition(infos[i]);
    if (p->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Status status = kafka_status(p->err, what + " of " + p->topic + "[" +
                                               std::to_string(p->partition) + "]");
      // The caller found the topic listed: a leader that does not know it
      // yet (it was just created) is a moment away from knowing it.
      if (p->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return transient_error(status.message());
      }
      return status;
    }
    offsets[{p->topic, p->partition}] = p->offset;
  }
  if (offsets.size() != static_cast<size_t>(partitions.cnt)) {
    return transient_error(what + ": " + std::to_string(offsets.size()) + " of " +
                           std::to_string(partitions.cnt) + " partitions answered");
  }
  return offsets;
}

}  // namespace

Result<PartitionOffsetMap> list_offsets(rd_kafka_t* rk,
                                        const rd_kafka_topic_partition_list_t& partitions,
                                        rd_kafka_OffsetSpec_t spec,
                                        rd_kafka_IsolationLevel_t isolation,
                                        std::chrono::milliseconds timeout,
                                        const std::string& where) {
  if (partitions.cnt == 0) return PartitionOffsetMap{};
  const std::string what = std::string("list the ") +
                           (spec == RD_KAFKA_OFFSET_SPEC_EARLIEST ? "start" : "end") +
                           " offsets on " + where;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto offsets = list_once(rk, partitions, spec, isolation,
                             std::max(left, std::chrono::milliseconds(1)), what);
    if (offsets.is_ok() || offsets.status().code() != StatusCode::kTransient ||
        Clock::now() + kTransientPause >= deadline) {
      return offsets;
    }
    std::this_thread::sleep_for(kTransientPause);
  }
}

}  // namespace sluice::engine
