// EndOffsetReader: where each partition of some topics ends, as a
// read_committed and a read_uncommitted reader see it (`sluice verify`). A
// partition whose stable end (the last stable offset) is below its high
// watermark holds a transaction that is neither committed nor aborted yet:
// read_committed readers see nothing of that partition past its first
// record.
//
// One ListOffsets request per isolation level for all the partitions asked
// about, bounded by kafka.connect_timeout. create() fails if the broker is
// unreachable (kTransient); list() fails with kNotFound "topic NAME does not
// exist on HOST:PORT". One thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice {

struct PartitionEnd {
  std::string topic;
  int32_t partition = 0;
  int64_t stable_end = 0;      // read_committed: the last stable offset
  int64_t high_watermark = 0;  // read_uncommitted
  bool transaction_open() const { return stable_end < high_watermark; }
};

class EndOffsetReader {
 public:
  static Result<std::unique_ptr<EndOffsetReader>> create(const KafkaOptions& kafka);
  virtual ~EndOffsetReader() = default;
  // Every partition of each of `topics`, in the order given, by partition.
  virtual Result<std::vector<PartitionEnd>> list(const std::vector<std::string>& topics) = 0;
};

}  // namespace sluice
