// The keys of a stateful stage's changelog, <p>.<stage>.changelog, for
// tools that read it outside a worker (`sluice state get|dump`). A record's
// key names one piece of state: a name scoped to a task key, or to the
// whole input partition; its value is that state's value, and a null value
// (a tombstone) deletes it. The encoding itself lives in one place,
// engine/src/state_keys.h; these functions only expose it. Pure, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sluice/stage.h"

namespace sluice {

struct ChangelogKey {
  StageState::Scope scope = StageState::Scope::kKey;
  std::string task_key;  // empty for Scope::kPartition
  std::string name;      // kKeyStateName ("") for a key's own state
};

// The changelog record key of `key`'s state `name` (Scope::kKey).
std::string changelog_key(std::string_view task_key, std::string_view name);

// nullopt for bytes no worker wrote as a state key (a foreign record, a
// truncated key).
std::optional<ChangelogKey> decode_changelog_key(std::string_view bytes);

}  // namespace sluice
