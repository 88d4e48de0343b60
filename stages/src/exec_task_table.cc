#include "exec_task_table.h"

#include <algorithm>

namespace sluice::stages {

void TaskTable::add(std::string id, std::string line, Completion done, Clock::time_point deadline) {
  SLUICE_CHECK(!contains(id), "task " + id + " is already in the table");
  pending_.push_back(id);
  entries_.emplace(std::move(id), Entry{std::move(line), std::move(done), deadline, 0});
}

std::optional<std::string> TaskTable::start_next(uint64_t generation) {
  SLUICE_CHECK(generation != 0, "generation 0 means pending");
  if (pending_.empty()) return std::nullopt;
  Entry& entry = entries_.at(pending_.front());
  pending_.pop_front();
  entry.generation = generation;
  return std::move(entry.line);
}

std::optional<Completion> TaskTable::finish(const std::string& id, uint64_t generation) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.generation != generation) return std::nullopt;
  Completion done = std::move(it->second.done);
  entries_.erase(it);
  return done;
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
    it = entries_.erase(it);
  }
  // Pending ids whose entries are gone leave the queue too.
  std::erase_if(pending_, [this](const std::string& id) { return !entries_.count(id); });
  return taken;
}

std::vector<Completion> TaskTable::take_in_flight(uint64_t generation) {
  return take_if([generation](const Entry& e) { return e.generation == generation; });
}

std::vector<Completion> TaskTable::take_pending() {
  return take_if([](const Entry& e) { return e.generation == 0; });
}

std::vector<Completion> TaskTable::take_expired_pending(Clock::time_point now) {
  return take_if([now](const Entry& e) { return e.generation == 0 && e.deadline <= now; });
}

std::vector<Completion> TaskTable::take_all() {
  return take_if([](const Entry&) { return true; });
}

std::optional<std::string> TaskTable::expired_in_flight(uint64_t generation,
                                                        Clock::time_point now) const {
  for (const auto& [id, e] : entries_) {
    if (e.generation == generation && e.deadline <= now) return id;
  }
  return std::nullopt;
}

std::optional<TaskTable::Clock::time_point> TaskTable::earliest_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& entry : entries_) {
    if (!earliest || entry.second.deadline < *earliest) earliest = entry.second.deadline;
  }
  return earliest;
}

}  // namespace sluice::stages
