// EndOffsetReader: list_offsets (OFFSET_SPEC_LATEST) once with each
// isolation level.
#include "sluice/end_offsets.h"

#include <map>
#include <utility>

#include "kafka_errors.h"
#include "list_offsets.h"
#include "topic_metadata.h"

namespace sluice {
namespace {

using Ends = engine::PartitionOffsetMap;

class EndOffsetReaderImpl final : public EndOffsetReader {
 public:
  EndOffsetReaderImpl(KafkaOptions kafka, engine::KafkaHandle client)
      : kafka_(std::move(kafka)), client_(std::move(client)) {}

  Result<std::vector<PartitionEnd>> list(const std::vector<std::string>& topics) override;

 private:
  Result<Ends> latest(const rd_kafka_topic_partition_list_t& partitions,
                      rd_kafka_IsolationLevel_t isolation);

  KafkaOptions kafka_;
  engine::KafkaHandle client_;
};

Result<Ends> EndOffsetReaderImpl::latest(const rd_kafka_topic_partition_list_t& partitions,
                                         rd_kafka_IsolationLevel_t isolation) {
  return engine::list_offsets(client_.get(), partitions, RD_KAFKA_OFFSET_SPEC_LATEST, isolation,
                              kafka_.connect_timeout, kafka_.bootstrap);
}

Result<std::vector<PartitionEnd>> EndOffsetReaderImpl::list(
    const std::vector<std::string>& topics) {
  auto described = engine::describe_topics(client_.get(), kafka_);
  if (!described.is_ok()) return described.status();
  engine::PartitionList partitions(rd_kafka_topic_partition_list_new(0));
  std::vector<PartitionEnd> out;
  for (const std::string& topic : topics) {
    auto it = described->find(topic);
    if (it == described->end()) {
      return not_found("topic " + topic + " does not exist on " + kafka_.bootstrap);
    }
    for (int32_t p = 0; p < it->second.partitions; ++p) {
      rd_kafka_topic_partition_list_add(partitions.get(), topic.c_str(), p);
      out.push_back({topic, p, 0, 0});
    }
  }
  if (out.empty()) return out;
  auto stable = latest(*partitions, RD_KAFKA_ISOLATION_LEVEL_READ_COMMITTED);
  if (!stable.is_ok()) return stable.status();
  auto high = latest(*partitions, RD_KAFKA_ISOLATION_LEVEL_READ_UNCOMMITTED);
  if (!high.is_ok()) return high.status();
  for (PartitionEnd& end : out) {
    auto s = stable->find({end.topic, end.partition});
    auto h = high->find({end.topic, end.partition});
    if (s == stable->end() || h == high->end()) {
      return transient_error(kafka_.bootstrap + " gave no end offset for " + end.topic + "[" +
                             std::to_string(end.partition) + "]");
    }
    end.stable_end = s->second;
    end.high_watermark = h->second;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<EndOffsetReader>> EndOffsetReader::create(const KafkaOptions& kafka) {
  auto client = engine::connect_client(kafka, engine::ClientSpec{});  // a plain admin handle
  if (!client.is_ok()) return client.status();
  return std::unique_ptr<EndOffsetReader>(
      std::make_unique<EndOffsetReaderImpl>(kafka, std::move(client).value()));
}

}  // namespace sluice
