#include "stage_state_view.h"


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
// over them, visited in byte order: one pass over both, merged as it goes,
// so a visit that stops early reads no further (a stage that looks at the
// oldest few of many entries pays for those few).
Status StageStateView::scan(std::string_view prefix, const Visitor& each, Scope scope) const {
  std::string scope_bytes = stored_key("", scope);
  std::string start = scope_bytes + std::string(prefix);
  const StateWrites::Latest& staged = writes_->latest();
  auto next = staged.lower_bound(start);
  auto in_range = [&] { return next != staged.end() && next->first.compare(0, start.size(), start) == 0; };
  auto name_of = [&](std::string_view key) { return key.substr(scope_bytes.size()); };
  bool go_on = true;
  // The staged entry at `next`, then past it; a staged delete shows nothing.
  auto visit_staged = [&] {
    if (next->second) go_on = each(name_of(next->first), *next->second);
    ++next;
  };
  Status s = store_->scan(partition_, start, [&](std::string_view key, std::string_view value) {
    while (go_on && in_range() && std::string_view(next->first) < key) visit_staged();
    if (!go_on) return false;
    if (in_range() && next->first == key) {
      visit_staged();  // the task's write replaces the stored value
    } else {
      go_on = each(name_of(key), value);
    }
    return go_on;
  });
  if (!s.is_ok()) return s;
  while (go_on && in_range()) visit_staged();
  return Status::ok();
}

}  // namespace sluice::engine
