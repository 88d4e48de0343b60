// StateFold: the live state a stage's changelog holds, built record by
// record as `sluice state get|dump` read it: per partition, the latest value
// of each state key, a tombstone (null value) removing it. Records whose key
// is not a state key (foreign bytes) are counted, never kept. Records of one
// partition must come in offset order, as a TopicSnapshot gives them.
//
// It keeps every live entry that passes its filter until it is destroyed:
// a filter on one partition or one key is what bounds it. One thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "sluice/state_changelog.h"
#include "sluice/topic_snapshot.h"

namespace sluice::ops {

struct StateEntry {
  int32_t partition = 0;
  int64_t offset = 0;  // of the changelog record that set the value
  int64_t timestamp_unix_ms = 0;
  ChangelogKey key;
  std::string value;
};

struct StateFilter {
  std::optional<int32_t> partition;       // only this changelog partition
  std::optional<std::string> record_key;  // only this key (changelog_key())
};

class StateFold {
 public:
  explicit StateFold(StateFilter filter = {}) : filter_(std::move(filter)) {}

  void add(const SnapshotRecord& record);

  // The live entries by partition; in a partition, partition-scoped ones
  // first, then by task key bytes, then by name bytes. Stops when `each`
  // returns false.
  void for_each(const std::function<bool(const StateEntry&)>& each) const;

  // Records that passed the filter but whose key is not a state key.
  int64_t undecodable() const { return undecodable_; }

 private:
  // (partition, 0 partition scope | 1 key scope, task key, name)
  using Place = std::tuple<int32_t, int, std::string, std::string>;
  struct Latest {
    int64_t offset = 0;
    int64_t timestamp_unix_ms = 0;
    std::string value;
  };

  StateFilter filter_;
  std::map<Place, Latest> live_;
  int64_t undecodable_ = 0;
};

}  // namespace sluice::ops
