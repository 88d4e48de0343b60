#include "verify_tally.h"

#include <set>

namespace sluice::ops {
namespace {

// The smallest kVerifyExamples ids offered: a bounded set, whatever the count.
class Examples {
 public:
  void offer(const std::string& id) {
    if (ids_.size() == kVerifyExamples && id >= *ids_.rbegin()) return;
    ids_.insert(id);
    if (ids_.size() > kVerifyExamples) ids_.erase(std::prev(ids_.end()));
  }
  std::vector<std::string> sorted() const { return {ids_.begin(), ids_.end()}; }

 private:
  std::set<std::string> ids_;
};

std::string_view trimmed(std::string_view line) {
  constexpr std::string_view kBlanks = " \t\r";
  size_t first = line.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return line.substr(first, line.find_last_not_of(kBlanks) - first + 1);
}

}  // namespace

void JobTally::add_submitted(std::string_view job_id) {
  jobs_[std::string(job_id)].submitted = true;
}

void JobTally::add_done(std::string_view job_id) {
  ++jobs_[std::string(job_id)].done;
  ++done_records_;
}

void JobTally::add_dead_letter(std::string_view job_id) {
  ++jobs_[std::string(job_id)].dead;
  ++dead_letter_records_;
}

VerifyCounts JobTally::counts() const {
  VerifyCounts c;
  Examples lost, duplicated, unexpected;
  for (const auto& [id, seen] : jobs_) {
    if (!seen.submitted) {
      ++c.unexpected;
      unexpected.offer(id);
      continue;
    }
    ++c.submitted;
    int64_t copies = int64_t{seen.done} + seen.dead;
    c.done += seen.done > 0 ? 1 : 0;
    c.dead_lettered += seen.dead > 0 ? 1 : 0;
    if (copies == 0) {
      ++c.lost;
      lost.offer(id);
    } else if (copies > 1) {
      ++c.duplicated;
      c.extra_copies += copies - 1;
      duplicated.offer(id);
    }
  }
  c.unreadable = unreadable_;
  c.done_records = done_records_;
  c.dead_letter_records = dead_letter_records_;
  c.replayed_letters = replayed_letters_;
  c.lost_examples = lost.sorted();
  c.duplicated_examples = duplicated.sorted();
  c.unexpected_examples = unexpected.sorted();
  return c;
}

Status parse_job_ids(std::string_view text, const std::string& where,
                     const std::function<void(std::string_view)>& each) {
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    size_t end = text.find('\n');
    std::string_view id = trimmed(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (id.empty()) continue;
    if (id.find_first_of(" \t") != std::string_view::npos) {
      constexpr size_t kShown = 60;
      return usage_error(where + ":" + std::to_string(number) + ": not a job id: " +
                         std::string(id.substr(0, kShown)) + (id.size() > kShown ? "..." : ""));
    }
    each(id);
  }
  return Status::ok();
}

}  // namespace sluice::ops
