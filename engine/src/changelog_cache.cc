#include "changelog_cache.h"

#include <algorithm>

namespace sluice::engine {
namespace {

size_t write_bytes(std::string_view key, const std::optional<std::string>& value) {
  return key.size() + (value ? value->size() : 0);
}

}  // namespace

void ChangelogCache::put(std::string_view key, const std::optional<std::string>& value) {
  auto [it, inserted] = writes_.try_emplace(std::string(key));
  if (!inserted) bytes_ -= write_bytes(it->first, it->second);
  it->second = value;
  bytes_ += write_bytes(it->first, it->second);
}

std::vector<ChangelogCache::Write> ChangelogCache::take(uint64_t id) {
  std::vector<Write> out;
  out.reserve(writes_.size());
  for (auto& [key, value] : writes_) out.push_back({key, std::move(value)});
  writes_.clear();
  bytes_ = 0;
  in_flight_.push_back({id, false, std::move(deferred_)});
  deferred_.clear();
  return out;
}

std::vector<int64_t> ChangelogCache::flushed(uint64_t id) {
  std::vector<int64_t> done;
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                         [id](const InFlight& f) { return f.id == id; });
  if (it == in_flight_.end()) return done;
  it->acknowledged = true;
  while (!in_flight_.empty() && in_flight_.front().acknowledged) {
    std::vector<int64_t>& offsets = in_flight_.front().offsets;
    done.insert(done.end(), offsets.begin(), offsets.end());
    in_flight_.pop_front();
  }
  return done;
}

void ChangelogCache::clear() {
  writes_.clear();
  bytes_ = 0;
  deferred_.clear();
  in_flight_.clear();
}

}  // namespace sluice::engine
