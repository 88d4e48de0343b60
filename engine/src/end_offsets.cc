// EndOffsetReader: rd_kafka_ListOffsets (OFFSET_SPEC_LATEST) once with each
// isolation level. rd_kafka_query_watermark_offsets would ask too, but one
// partition per round trip, and with the isolation level of the handle.
#include "sluice/end_offsets.h"

#include <map>
#include <utility>

#include "kafka_errors.h"
#include "topic_metadata.h"

namespace sluice {
namespace {

using Ends = std::map<std::pair<std::string, int32_t>, int64_t>;

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

Result<engine::AdminOptions> list_options(rd_kafka_t* rk, rd_kafka_IsolationLevel_t isolation,
                                          std::chrono::milliseconds timeout) {
  engine::AdminOptions options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTOFFSETS));
  char error[512];
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()),
                                                error, sizeof(error))) {
    return usage_error(std::string("admin options: ") + error);
  }
  if (engine::KafkaError e(rd_kafka_AdminOptions_set_isolation_level(options.get(), isolation));
      e) {
    return engine::kafka_status(e.get(), "admin options");
  }
  return options;
}

Result<Ends> EndOffsetReaderImpl::latest(const rd_kafka_topic_partition_list_t& partitions,
                                         rd_kafka_IsolationLevel_t isolation) {
  rd_kafka_t* rk = client_.get();
  auto options = list_options(rk, isolation, kafka_.connect_timeout);
  if (!options.is_ok()) return options.status();
  engine::PartitionList request(rd_kafka_topic_partition_list_copy(&partitions));
  engine::KafkaQueue queue(rd_kafka_queue_new(rk));
  rd_kafka_ListOffsets(rk, request.get(), options->get(), queue.get());
  // librdkafka answers by the request timeout; twice that guards against a bug.
  engine::KafkaEvent event(
      rd_kafka_queue_poll(queue.get(), static_cast<int>(2 * kafka_.connect_timeout.count())));
  const std::string what = "list the end offsets on " + kafka_.bootstrap;
  if (!event) return transient_error(what + ": no answer");
  if (Status s = engine::kafka_status(rd_kafka_event_error(event.get()), what); !s.is_ok()) {
    return s;
  }
  size_t count = 0;
  const rd_kafka_ListOffsetsResultInfo_t** infos =
      rd_kafka_ListOffsets_result_infos(rd_kafka_event_ListOffsets_result(event.get()), &count);
  Ends ends;
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_topic_partition_t* p = rd_kafka_ListOffsetsResultInfo_topic_partition(infos[i]);
    if (p->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return engine::kafka_status(p->err, "list the end offset of " + std::string(p->topic) +
                                              "[" + std::to_string(p->partition) + "] on " +
                                              kafka_.bootstrap);
    }
    ends[{p->topic, p->partition}] = p->offset;
  }
  return ends;
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
      rd_kafka_topic_partition_list_add(partitions.get(), topic.c_str(), p)->offset =
          RD_KAFKA_OFFSET_SPEC_LATEST;
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
