#include "sluice/state_changelog.h"

#include "state_keys.h"

namespace sluice {

std::string changelog_key(std::string_view task_key, std::string_view name) {
  return engine::state_key_prefix(engine::StateKey::Scope::kTaskKey, task_key, name);
}

std::optional<ChangelogKey> decode_changelog_key(std::string_view bytes) {
  std::optional<engine::StateKey> key = engine::decode_state_key(bytes);
  if (!key) return std::nullopt;
  bool partition = key->scope == engine::StateKey::Scope::kPartition;
  return ChangelogKey{partition ? StageState::Scope::kPartition : StageState::Scope::kKey,
                      std::move(key->task_key), std::move(key->name)};
}

}  // namespace sluice
