#include "exec_task_table.h"

#include <algorithm>

namespace sluice::stages {

size_t TaskTable::in_flight(uint64_t generation) const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(), [&](const auto& e) {
    return e.second.generation == generation;
  }));
}

void TaskTable::add(std::string id, std::string line, Completion done) {
  SLUICE_CHECK(!contains(id), "task " + id + " is already in the table");
  pending_.push_back(id);
  Entry entry;
  entry.line = std::move(line);
  entry.done = std::move(done);
  entries_.emplace(std::move(id), std::move(entry));
}

std::optional<std::string> TaskTable::start_next(uint64_t generation, Clock::time_point deadline,
                                                 bool suspects_only) {
  SLUICE_CHECK(generation != 0, "generation 0 means pending");
  if (pending_.empty()) return std::nullopt;
  Entry& entry = entries_.at(pending_.front());
  if (suspects_only && !entry.suspect) return std::nullopt;  // suspects are queued first
  pending_.pop_front();
  entry.generation = generation;
  entry.deadline = deadline;
  entry.started = ++starts_;
  return entry.line;
}

void TaskTable::erase(std::unordered_map<std::string, Entry>::iterator it) {
  if (it->second.suspect) --suspects_;
  if (it->second.generation == 0) std::erase(pending_, it->first);
  entries_.erase(it);
}

std::optional<Completion> TaskTable::finish(const std::string& id, uint64_t generation) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.generation != generation) return std::nullopt;
  Completion done = std::move(it->second.done);
  erase(it);
  return done;
}

std::optional<Completion> TaskTable::take(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  Completion done = std::move(it->second.done);
  erase(it);
  return done;
}

size_t TaskTable::requeue_in_flight(uint64_t generation, bool as_suspects,
                                    const std::string& note) {
  std::vector<std::pair<uint64_t, std::string>> started;
  for (auto& [id, e] : entries_) {
    if (e.generation != generation) continue;
    started.emplace_back(e.started, id);
    e.generation = 0;
    e.deadline = Clock::time_point::max();
    if (as_suspects && !e.suspect) {
      e.suspect = true;
      e.suspect_note = note;
      ++suspects_;
    }
  }
  // Latest first, each to the front: the oldest ends up at the head.
  std::sort(started.rbegin(), started.rend());
  for (auto& [order, id] : started) pending_.push_front(std::move(id));
  return started.size();
}

std::vector<std::string> TaskTable::ids_in_flight(uint64_t generation) const {
  std::vector<std::string> ids;
  for (const auto& [id, e] : entries_) {
    if (e.generation == generation) ids.push_back(id);
  }
  return ids;
}

std::optional<std::string> TaskTable::suspect_note(const std::string& id) const {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.suspect) return std::nullopt;
  return it->second.suspect_note;
}

template <typename Pred>
std::vector<Completion> TaskTable::take_if(Pred pred) {
  std::vector<Completion> taken;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!pred(it->second)) {
      ++it;
      continue;
    }
    taken.push_back(std::move(it->second.done));
    if (it->second.suspect) --suspects_;
    it = entries_.erase(it);
  }
  // Pending ids whose entries are gone leave the queue too.
  std::erase_if(pending_, [this](const std::string& id) { return !entries_.count(id); });
  return taken;
}

std::vector<Completion> TaskTable::take_pending() {
  return take_if([](const Entry& e) { return e.generation == 0; });
}

std::vector<Completion> TaskTable::take_all() {
  return take_if([](const Entry&) { return true; });
}

std::optional<std::string> TaskTable::expired_in_flight(uint64_t generation,
                                                        Clock::time_point now) const {
  const std::string* earliest = nullptr;
  Clock::time_point earliest_deadline = now;
  for (const auto& [id, e] : entries_) {
    if (e.generation == generation && e.deadline <= earliest_deadline) {
      earliest = &id;
      earliest_deadline = e.deadline;
    }
  }
  if (earliest == nullptr) return std::nullopt;
  return *earliest;
}

std::optional<TaskTable::Clock::time_point> TaskTable::earliest_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& entry : entries_) {
    if (entry.second.generation == 0) continue;
    if (!earliest || entry.second.deadline < *earliest) earliest = entry.second.deadline;
  }
  return earliest;
}

}  // namespace sluice::stages
