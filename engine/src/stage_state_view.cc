#include "stage_state_view.h"

#include <map>

#include "state_keys.h"

namespace sluice::engine {
namespace {

StateKey::Scope stored_scope(StageState::Scope scope) {
  return scope == StageState::Scope::kKey ? StateKey::Scope::kTaskKey
                                          : StateKey::Scope::kPartition;
}

}  // namespace

std::string StageStateView::stored_key(std::string_view name, Scope scope) const {
  return state_key_prefix(stored_scope(scope),
                          scope == Scope::kKey ? task_key_ : std::string_view(), name);
}

Result<std::optional<std::string>> StageStateView::get(std::string_view name,
                                                       Scope scope) const {
  std::string key = stored_key(name, scope);
  if (const std::optional<std::string>* staged = writes_->find(key)) return *staged;
  return store_->get(partition_, key);
}

Status StageStateView::put(std::string_view name, std::string value, Scope scope) {
  std::string key = stored_key(name, scope);
  size_t before = writes_->bytes();
  const std::optional<std::string>* staged = writes_->find(key);
  size_t replaced = staged ? key.size() + (*staged ? (*staged)->size() : 0) : 0;
  size_t after = before - replaced + key.size() + value.size();
  if (after > max_bytes_) {
    return invalid_input("state: this task's writes would hold " + std::to_string(after) +
                         " bytes, over max_state_bytes " + std::to_string(max_bytes_));
  }
  writes_->put(std::move(key), std::move(value));
  return Status::ok();
}

void StageStateView::erase(std::string_view name, Scope scope) {
  writes_->erase(stored_key(name, scope));
}

// The store's names under the prefix, with the task's staged writes laid
// over them, visited in byte order.
Status StageStateView::scan(std::string_view prefix, const Visitor& each, Scope scope) const {
  std::string scope_bytes = stored_key("", scope);
  std::string start = scope_bytes + std::string(prefix);
  std::map<std::string, std::string, std::less<>> merged;
  Status s = store_->scan(partition_, start, [&](std::string_view key, std::string_view value) {
    merged.emplace(key.substr(scope_bytes.size()), value);
    return true;
  });
  if (!s.is_ok()) return s;
  for (const auto& [key, value] : writes_->latest()) {
    if (key.compare(0, start.size(), start) != 0) continue;
    std::string name = key.substr(scope_bytes.size());
    if (value) {
      merged[name] = *value;
    } else {
      merged.erase(name);
    }
  }
  for (const auto& [name, value] : merged) {
    if (!each(name, value)) break;
  }
  return Status::ok();
}

}  // namespace sluice::engine
