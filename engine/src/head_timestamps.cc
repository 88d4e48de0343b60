#include "head_timestamps.h"

#include <algorithm>

#include "kafka_client.h"
#include "kafka_errors.h"
#include "task_codec.h"
#include "topic_metadata.h"

namespace sluice::engine {

Result<std::unique_ptr<HeadTimestamps>> HeadTimestamps::create(const KafkaOptions& kafka) {
  ClientSpec spec = consumer_spec("sluice-probe-" + new_id());
  spec.defaults["fetch.message.max.bytes"] = "65536";
  spec.defaults["queued.max.messages.kbytes"] = "1024";
  auto consumer = connect_client(kafka, std::move(spec));
  if (!consumer.is_ok()) return consumer.status();
  return std::make_unique<HeadTimestamps>(std::move(consumer).value());
}

Result<std::map<HeadTimestamps::Key, int64_t>> HeadTimestamps::read(
    const std::vector<PartitionOffset>& at, std::chrono::milliseconds timeout) {
  std::map<Key, int64_t> found;
  if (at.empty()) return found;
  PartitionList partitions(rd_kafka_topic_partition_list_new(static_cast<int>(at.size())));
  for (const PartitionOffset& p : at) {
    rd_kafka_topic_partition_list_add(partitions.get(), p.topic.c_str(), p.partition)->offset =
        p.offset;
  }
  if (Status s = kafka_status(rd_kafka_assign(consumer_.get(), partitions.get()),
                              "assign partitions to read their oldest records");
      !s.is_ok()) {
    return s;
  }
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + timeout;
  while (found.size() < at.size()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    KafkaMessage message(rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(left.count())));
    if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    rd_kafka_timestamp_type_t type;
    int64_t timestamp = rd_kafka_message_timestamp(message.get(), &type);
    if (timestamp < 0) continue;
    // Only the first record of each partition: later ones are younger.
    found.emplace(Key{rd_kafka_topic_name(message->rkt), message->partition}, timestamp);
  }
  // Unassigned between reads: the consumer fetches nothing while idle.
  rd_kafka_assign(consumer_.get(), nullptr);
  return found;
}

}  // namespace sluice::engine
