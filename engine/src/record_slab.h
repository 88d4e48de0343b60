// RecordSlab: the worker's in-flight records, in reusable slots.
//
// Every consumed record lives here until it is acknowledged or dropped. A
// slot's record is reused by later records, so its strings and protobuf
// fields keep their buffers: decoding the next record into it allocates
// little. An id names slot (low 32 bits) and generation (high 32 bits), so a
// stale id (a record dropped while its stage still ran) never finds the
// slot's next occupant. Single-threaded: the worker loop owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/status.h"

namespace sluice::engine {

template <typename Record>  // Record has a `uint64_t id` member
class RecordSlab {
 public:
  Record& create() {
    uint32_t slot;
    if (free_.empty()) {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.push_back({std::make_unique<Record>(), 0, false});
    } else {
      slot = free_.back();
      free_.pop_back();
    }
    Slot& s = slots_[slot];
    s.live = true;
    ++s.generation;
    s.record->id = (static_cast<uint64_t>(s.generation) << 32) | slot;
    ++live_;
    return *s.record;
  }

  Record* find(uint64_t id) {
    auto slot = static_cast<uint32_t>(id);
    if (slot >= slots_.size()) return nullptr;
    Slot& s = slots_[slot];
    return s.live && s.record->id == id ? s.record.get() : nullptr;
  }

  void erase(Record& record) {
    auto slot = static_cast<uint32_t>(record.id);
    SLUICE_CHECK(slot < slots_.size() && slots_[slot].live && slots_[slot].record.get() == &record,
                 "erased a record that is not live");
    slots_[slot].live = false;
    free_.push_back(slot);
    --live_;
  }

  // Calls f(record) for every live record; f may erase the record it is given.
  template <typename F>
  void for_each(F&& f) {
    for (Slot& s : slots_) {
      if (s.live) f(*s.record);
    }
  }

  template <typename Pred>
  bool any_of(Pred&& pred) const {
    for (const Slot& s : slots_) {
      if (s.live && pred(*s.record)) return true;
    }
    return false;
  }

  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

 private:
  struct Slot {
    std::unique_ptr<Record> record;  // stable address while slots_ grows
    uint32_t generation;
    bool live;
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace sluice::engine
