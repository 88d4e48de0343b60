// How a stage's state keys are stored: in the partition's RocksDB column
// family and, byte for byte the same, as the key of its changelog record (so
// that compaction keeps the latest value of each).
//
// A stage sees state scoped to the task's key, or partition-wide. Both
// scopes share one keyspace without colliding:
//   'k' varint(len(task key)) task-key name   key-scoped
//   'p' name                                  partition-wide
// The length prefix keeps task keys that are prefixes of one another apart
// ("a" + "bc" and "ab" + "c"), and a scan of one task key's names is a
// prefix scan of its own bytes only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice::engine {

struct StateKey {
  enum class Scope { kTaskKey, kPartition };
  Scope scope = Scope::kTaskKey;
  std::string task_key;  // empty for kPartition
  std::string name;
};

std::string encode_state_key(const StateKey& key);

// Every stored key of `scope` (and `task_key`) whose name starts with
// `name_prefix`, starts with these bytes.
std::string state_key_prefix(StateKey::Scope scope, std::string_view task_key,
                             std::string_view name_prefix);

// nullopt for bytes that encode_state_key did not write (a foreign record on
// the changelog, a truncated key).
std::optional<StateKey> decode_state_key(std::string_view stored);

}  // namespace sluice::engine
