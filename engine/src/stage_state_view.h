// StageStateView: the StageState a task of a stateful stage is given (see
// sluice/stage.h), over its input partition's StateStore column family.
//
// Reads look at the task's own staged writes first, then the store; writes
// are staged in the task's StateWrites, bounded by the stage's
// max_state_bytes, and reach the store (and the changelog) only when the
// worker takes the task's outcome. The worker binds one view per task, on
// its own thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/stage.h"
#include "state_store.h"
#include "state_writes.h"

namespace sluice::engine {

class StageStateView final : public StageState {
 public:
  explicit StageStateView(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The task this view serves from now on: its partition, key and writes.
  void bind(const StateStore* store, int32_t partition, std::string_view task_key,
            StateWrites* writes) {
    store_ = store;
    partition_ = partition;
    task_key_ = task_key;
    writes_ = writes;
  }

  Result<std::optional<std::string>> get(std::string_view name, Scope scope) const override;
  Status put(std::string_view name, std::string value, Scope scope) override;
  void erase(std::string_view name, Scope scope) override;
  Status scan(std::string_view prefix, const Visitor& each, Scope scope) const override;

 private:
  std::string stored_key(std::string_view name, Scope scope) const;

  size_t max_bytes_;
  const StateStore* store_ = nullptr;
  int32_t partition_ = 0;
  std::string_view task_key_;
  StateWrites* writes_ = nullptr;
};

}  // namespace sluice::engine
