#include "lag_monitor.h"

#include <set>

#include "done_offsets.h"
#include "kafka_errors.h"
#include "queue_depth.h"

namespace sluice::engine {
namespace {

void add_partitions(rd_kafka_topic_partition_list_t* list, const std::string& topic,
                    const TopicMap& topics) {
  auto it = topics.find(topic);
  if (it == topics.end()) return;
  for (int32_t p = 0; p < it->second.partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  }
}

int64_t offset_or(const PartitionOffsetMap& offsets, const std::string& topic, int32_t partition,
                  int64_t fallback) {
  auto it = offsets.find({topic, partition});
  return it == offsets.end() ? fallback : it->second;
}

}  // namespace

int64_t GroupLag::depth() const {
  int64_t sum = 0;
  for (const TopicLag& topic : topics) sum += topic.depth;
  return sum;
}

Result<std::unique_ptr<LagMonitor>> LagMonitor::create(const KafkaOptions& kafka,
                                                       std::vector<GroupQueues> groups,
                                                       std::vector<std::string> stored_topics) {
  auto admin = connect_client(kafka, ClientSpec{});
  if (!admin.is_ok()) return admin.status();
  return std::make_unique<LagMonitor>(kafka, std::move(groups), std::move(stored_topics),
                                      std::move(admin).value());
}

LagMonitor::LagMonitor(KafkaOptions kafka, std::vector<GroupQueues> groups,
                       std::vector<std::string> stored_topics, KafkaHandle admin)
    : kafka_(std::move(kafka)),
      groups_(std::move(groups)),
      stored_topics_(std::move(stored_topics)),
      admin_(std::move(admin)) {}

void LagMonitor::bound_reads(std::chrono::milliseconds timeout) {
  kafka_.connect_timeout = std::min(kafka_.connect_timeout, timeout);
}

Result<LagReading> LagMonitor::read() {
  auto topics = describe_topics(admin_.get(), kafka_);
  if (!topics.is_ok()) return topics.status();
  std::set<std::string> asked;
  for (const GroupQueues& group : groups_) asked.insert(group.topics.begin(), group.topics.end());
  asked.insert(stored_topics_.begin(), stored_topics_.end());
  PartitionList partitions(rd_kafka_topic_partition_list_new(0));
  for (const std::string& topic : asked) add_partitions(partitions.get(), topic, *topics);
  // read_uncommitted: the high watermark, which the committed offsets of an
  // exactly_once group also count up to (a transaction's marker takes an
  // offset of its own, so a drained partition can show 1).
  auto low = list_offsets(admin_.get(), *partitions, RD_KAFKA_OFFSET_SPEC_EARLIEST,
                          RD_KAFKA_ISOLATION_LEVEL_READ_UNCOMMITTED, kafka_.connect_timeout,
                          kafka_.bootstrap);
  if (!low.is_ok()) return low.status();
  auto high = list_offsets(admin_.get(), *partitions, RD_KAFKA_OFFSET_SPEC_LATEST,
                           RD_KAFKA_ISOLATION_LEVEL_READ_UNCOMMITTED, kafka_.connect_timeout,
                           kafka_.bootstrap);
  if (!high.is_ok()) return high.status();

  LagReading reading;
  for (const GroupQueues& group : groups_) {
    GroupLag lag;
    if (Status s = read_group(group, *topics, *low, *high, lag); !s.is_ok()) return s;
    reading.groups.push_back(std::move(lag));
  }
  for (const std::string& topic : stored_topics_) {
    int64_t records = 0, written = 0;
    if (auto it = topics->find(topic); it != topics->end()) {
      for (int32_t p = 0; p < it->second.partitions; ++p) {
        records += offset_or(*high, topic, p, 0) - offset_or(*low, topic, p, 0);
        written += offset_or(*high, topic, p, 0);
      }
    }
    reading.stored[topic] = records;
    reading.written[topic] = written;
  }
  reading.topics = std::move(topics).value();
  return reading;
}

Status LagMonitor::read_group(const GroupQueues& queues, const TopicMap& topics,
                              const PartitionOffsetMap& low, const PartitionOffsetMap& high,
                              GroupLag& out) {
  out.group = queues.group;
  PartitionList committed(rd_kafka_topic_partition_list_new(0));
  for (const std::string& topic : queues.topics) {
    add_partitions(committed.get(), topic, topics);
    auto it = topics.find(topic);
    size_t count = it == topics.end() ? 0 : static_cast<size_t>(it->second.partitions);
    out.topics.push_back({topic, it != topics.end(), 0, std::vector<int64_t>(count),
                          std::vector<int64_t>(count, -1)});
  }
  if (committed->cnt == 0) return Status::ok();
  auto consumer = group_consumer(queues.group);
  if (!consumer.is_ok()) return consumer.status();
  rd_kafka_resp_err_t err = call_when_coordinator_ready(kafka_.connect_timeout, [&](int left_ms) {
    return rd_kafka_committed(*consumer, committed.get(), left_ms);
  });
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka_status(err, "committed offsets of group " + queues.group + " on " +
                                 kafka_.bootstrap);
  }
  for (int i = 0; i < committed->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = committed->elems[i];
    if (tp.metadata != nullptr) {
      out.circuit_until_unix_ms = std::max(
          out.circuit_until_unix_ms,
          decode_circuit_until(
              std::string_view(static_cast<const char*>(tp.metadata), tp.metadata_size)));
    }
    Watermarks marks{offset_or(low, tp.topic, tp.partition, 0),
                     offset_or(high, tp.topic, tp.partition, 0)};
    // A per-partition error leaves offset at RD_KAFKA_OFFSET_INVALID (< 0):
    // counted from the low watermark, like a partition never committed.
    int64_t depth = partition_depth(marks, tp.err ? -1 : tp.offset);
    for (TopicLag& topic : out.topics) {
      if (topic.topic != tp.topic) continue;
      topic.depth += depth;
      if (tp.partition >= 0 && static_cast<size_t>(tp.partition) < topic.partitions.size()) {
        topic.partitions[tp.partition] = depth;
        if (depth > 0) topic.waiting_from[tp.partition] = marks.high - depth;
      }
    }
  }
  return Status::ok();
}

// read_uncommitted, whatever the spec's consumers use: a read_committed
// OffsetFetch asks for stable offsets, and the broker holds it while a
// transaction of the group is open. A worker killed -9 mid-transaction
// leaves one open for up to transaction.timeout.ms plus the broker's abort
// check interval (20 s by default): every read would time out all that
// while. Unstable, the answer is the last committed offset, which is what
// queue depth counts from.
Result<rd_kafka_t*> LagMonitor::group_consumer(const std::string& group) {
  auto it = consumers_.find(group);
  if (it != consumers_.end()) {
    // Nothing else polls this handle: drain its error events so they do
    // not pile up across calls.
    rd_kafka_poll(it->second.get(), 0);
    return it->second.get();
  }
  KafkaOptions options = kafka_;
  options.properties.erase("isolation.level");
  ClientSpec spec = consumer_spec(group);
  spec.forced["isolation.level"] = "read_uncommitted";
  auto consumer = make_client(options, std::move(spec));
  if (!consumer.is_ok()) return consumer.status();
  rd_kafka_t* rk = consumer->get();
  consumers_.emplace(group, std::move(consumer).value());
  return rk;
}

}  // namespace sluice::engine
