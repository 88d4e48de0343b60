// The state writes of one task, staged until the task's outputs go out.
//
// They take effect with the outputs (applied to the store in one batch and
// sent to the changelog beside them), never before: a task that fails or is
// retried drops its writes with it and leaves the state as it was. Reads
// through the task see its own writes first (StateStore::get is the rest).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::engine {

class StateWrites {
 public:
  // The last write of each stored key (state_keys.h): a value, or nullopt
  // for a delete. One changelog record each.
  using Latest = std::map<std::string, std::optional<std::string>, std::less<>>;

  void put(std::string stored_key, std::string value) {
    set(std::move(stored_key), std::move(value));
  }
  void erase(std::string stored_key) { set(std::move(stored_key), std::nullopt); }

  // nullptr when this task did not write `stored_key`; else what it wrote
  // (nullopt: it deleted it).
  const std::optional<std::string>* find(std::string_view stored_key) const {
    auto it = latest_.find(stored_key);
    return it == latest_.end() ? nullptr : &it->second;
  }

  const Latest& latest() const { return latest_; }
  void clear() {
    latest_.clear();
    bytes_ = 0;
  }
  bool empty() const { return latest_.empty(); }
  // Keys and values held, for the bound on a task's state.
  size_t bytes() const { return bytes_; }

 private:
  void set(std::string stored_key, std::optional<std::string> value) {
    auto [it, inserted] = latest_.try_emplace(std::move(stored_key));
    if (inserted) {
      bytes_ += it->first.size();
    } else if (it->second) {
      bytes_ -= it->second->size();
    }
    if (value) bytes_ += value->size();
    it->second = std::move(value);
  }

  Latest latest_;
  size_t bytes_ = 0;
};

}  // namespace sluice::engine
