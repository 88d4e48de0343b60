// StableStringMap: string keys to values that never move, for per-record
// lookups.
//
// The key dispatcher looks up one key per consumed record among thousands.
// std::unordered_map costs three dependent cache misses per hit (bucket,
// the node before, the node); this index is one flat array of (hash, entry)
// slots probed linearly, so a hit costs the slot and the entry. Entries are
// allocated one by one, so pointers to them stay valid until they are
// erased; erasing is in bulk only (erase_if), which rebuilds the index, so
// the probe sequences need no tombstones. Single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::engine {

template <typename Value>
class StableStringMap {
 public:
  struct Entry {
    std::string key;
    Value value;
  };

  // The entry of `key`, made with a default Value if there was none.
  Entry& find_or_insert(std::string_view key) {
    if (Entry* found = find(key)) return *found;
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    size_t hash = std::hash<std::string_view>{}(key);
    size_t mask = slots_.size() - 1;
    size_t i = hash & mask;
    while (slots_[i].entry != nullptr) i = (i + 1) & mask;
    entries_.push_back(std::make_unique<Entry>(Entry{std::string(key), Value{}}));
    slots_[i] = {hash, entries_.back().get()};
    return *slots_[i].entry;
  }

  Entry* find(std::string_view key) {
    if (slots_.empty()) return nullptr;
    size_t hash = std::hash<std::string_view>{}(key);
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask; slots_[i].entry != nullptr; i = (i + 1) & mask) {
      if (slots_[i].hash == hash && slots_[i].entry->key == key) return slots_[i].entry;
    }
    return nullptr;
  }

  // Erases every entry for which pred(value) holds; the others stay put.
  template <typename Pred>
  void erase_if(Pred&& pred) {
    std::erase_if(entries_, [&](const std::unique_ptr<Entry>& e) { return pred(e->value); });
    size_t capacity = 64;
    while (capacity < entries_.size() * 2) capacity *= 2;
    rebuild(capacity);
  }

  template <typename F>
  void for_each(F&& f) {
    for (auto& entry : entries_) f(entry->key, entry->value);
  }

  size_t size() const { return entries_.size(); }

 private:
  struct Slot {
    size_t hash = 0;
    Entry* entry = nullptr;
  };

  void grow() { rebuild(slots_.empty() ? 64 : slots_.size() * 2); }

  void rebuild(size_t capacity) {
    slots_.assign(capacity, Slot{});
    size_t mask = capacity - 1;
    for (auto& entry : entries_) {
      size_t hash = std::hash<std::string_view>{}(entry->key);
      size_t i = hash & mask;
      while (slots_[i].entry != nullptr) i = (i + 1) & mask;
      slots_[i] = {hash, entry.get()};
    }
  }

  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<Slot> slots_;  // a power of two in size, at most half full
};

}  // namespace sluice::engine
