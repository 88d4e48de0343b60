#include "state_fold.h"

namespace sluice::ops {
namespace {

constexpr int kPartitionRank = 0;  // partition-scoped entries sort first
constexpr int kKeyRank = 1;

}  // namespace

void StateFold::add(const SnapshotRecord& record) {
  if (filter_.partition && record.partition != *filter_.partition) return;
  if (filter_.record_key && record.key != *filter_.record_key) return;
  std::optional<ChangelogKey> key = decode_changelog_key(record.key);
  if (!key) {
    ++undecodable_;
    return;
  }
  bool partition_scope = key->scope == StageState::Scope::kPartition;
  Place place{record.partition, partition_scope ? kPartitionRank : kKeyRank,
              std::move(key->task_key), std::move(key->name)};
  if (record.tombstone) {
    live_.erase(place);
    return;
  }
  live_[std::move(place)] = Latest{record.offset, record.timestamp_unix_ms, record.value};
}

void StateFold::for_each(const std::function<bool(const StateEntry&)>& each) const {
  for (const auto& [place, latest] : live_) {
    const auto& [partition, rank, task_key, name] = place;
    StateEntry entry{partition, latest.offset, latest.timestamp_unix_ms,
                     ChangelogKey{rank == kPartitionRank ? StageState::Scope::kPartition
                                                         : StageState::Scope::kKey,
                                  task_key, name},
                     latest.value};
    if (!each(entry)) return;
  }
}

}  // namespace sluice::ops
