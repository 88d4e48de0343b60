// LagMonitor: queue depth of stage groups, read from the broker: per
// partition, the high watermark minus the group's committed offset (from
// the low watermark where the group committed nothing, or committed below
// it). Never from client statistics: librdkafka freezes a paused
// partition's consumer lag, and backpressure pauses partitions.
//
// The one implementation behind the workers' backpressure gate, `sluice
// status`, the exporter and `sluice submit`'s admission. Its cost does not
// grow with the number of partitions: a read is one Metadata request, two
// ListOffsets requests per partition leader (the earliest and the latest
// offsets of every partition asked about) and one OffsetFetch per group,
// each bounded by kafka.connect_timeout. Committed offsets are read with a
// consumer handle per group that never subscribes, so it never joins the
// group and never disturbs its members' assignment. One thread at a time.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kafka_handles.h"
#include "list_offsets.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"
#include "topic_metadata.h"

namespace sluice::engine {

// A consumer group and the topics whose depth it has (a stage's group: its
// input and its retry topic).
struct GroupQueues {
  std::string group;
  std::vector<std::string> topics;
};

struct TopicLag {
  std::string topic;
  bool exists = false;  // a topic not created yet has depth 0
  int64_t depth = 0;
  std::vector<int64_t> partitions;  // the depth of each partition, by number
  // By number: the offset of each partition's oldest waiting record (the
  // committed offset, or the low watermark), -1 where nothing waits.
  std::vector<int64_t> waiting_from;
};

struct GroupLag {
  std::string group;
  std::vector<TopicLag> topics;  // in the order of GroupQueues::topics
  // The latest "circuit open until" the group's commit metadata states
  // (unix ms; 0: none; done_offsets.h).
  int64_t circuit_until_unix_ms = 0;
  int64_t depth() const;
};

struct LagReading {
  std::vector<GroupLag> groups;           // in the order given to create()
  std::map<std::string, int64_t> stored;  // per stored topic: records it holds
  // Per stored topic: records ever written to it (its partitions' high
  // watermarks, summed; under exactly_once transaction markers count too).
  std::map<std::string, int64_t> written;
  TopicMap topics;                        // what the cluster listed
};

class LagMonitor {
 public:
  // `stored_topics`: topics whose records are counted whole (a DLQ, done).
  // Fails when the broker is unreachable.
  static Result<std::unique_ptr<LagMonitor>> create(const KafkaOptions& kafka,
                                                    std::vector<GroupQueues> groups,
                                                    std::vector<std::string> stored_topics = {});
  LagMonitor(KafkaOptions kafka, std::vector<GroupQueues> groups,
             std::vector<std::string> stored_topics, KafkaHandle admin);

  Result<LagReading> read();
  // Bounds each broker call of read() by `timeout` (default: the options'
  // connect_timeout), when that is shorter.
  void bound_reads(std::chrono::milliseconds timeout);

  // The admin handle, for callers that ask the cluster more (the Inspector).
  rd_kafka_t* admin() const { return admin_.get(); }
  // The non-member consumer handle of `group`, made on first use.
  Result<rd_kafka_t*> group_consumer(const std::string& group);

 private:
  Status read_group(const GroupQueues& queues, const TopicMap& topics,
                    const PartitionOffsetMap& low, const PartitionOffsetMap& high, GroupLag& out);

  KafkaOptions kafka_;  // connect_timeout: each call's bound (bound_reads())
  std::vector<GroupQueues> groups_;
  std::vector<std::string> stored_topics_;
  KafkaHandle admin_;
  std::map<std::string, KafkaHandle> consumers_;  // by group
};

}  // namespace sluice::engine
