// What `sluice verify` compares: the job ids a user submitted (the lines
// `sluice submit` printed) against the job id of every record in <p>.done
// and the stages' DLQs. Memory is one entry per distinct job id, whatever
// the number of records: a done topic of millions of records costs its
// jobs, not its bytes. Pure: no Kafka here (verify_command.cc reads).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/status.h"

namespace sluice::ops {

// How many examples of each problem a report names.
inline constexpr size_t kVerifyExamples = 5;

struct VerifyCounts {
  int64_t submitted = 0;      // distinct job ids in the file
  int64_t done = 0;           // submitted jobs with at least one record in done
  int64_t dead_lettered = 0;  // submitted jobs with at least one dead letter
  int64_t lost = 0;           // submitted jobs in neither
  int64_t duplicated = 0;     // submitted jobs with more than one record in all
  int64_t extra_copies = 0;   // records of those beyond their first
  int64_t unexpected = 0;     // job ids in done or a DLQ that are not in the file
  int64_t unreadable = 0;     // records that are not Sluice envelopes
  int64_t done_records = 0, dead_letter_records = 0;
  // Dead letters `dlq replay` sent back (its ledger says so): not an outcome
  // of their job, whose outcome is what became of the replay.
  int64_t replayed_letters = 0;
  // The smallest few ids of each problem, sorted.
  std::vector<std::string> lost_examples, duplicated_examples, unexpected_examples;
};

class JobTally {
 public:
  // A job id listed more than once is one job.
  void add_submitted(std::string_view job_id);
  void add_done(std::string_view job_id);
  void add_dead_letter(std::string_view job_id);
  void add_unreadable() { ++unreadable_; }
  void add_replayed_letter() { ++replayed_letters_; }
  VerifyCounts counts() const;

 private:
  struct Seen {
    bool submitted = false;
    uint32_t done = 0;
    uint32_t dead = 0;
  };
  std::unordered_map<std::string, Seen> jobs_;
  int64_t done_records_ = 0, dead_letter_records_ = 0, unreadable_ = 0, replayed_letters_ = 0;
};

// Calls `each` with every job id of an ids file's text: one a line,
// surrounding blanks trimmed, blank lines skipped. A line with a blank
// inside is not a job id (a spec or a log given by mistake): kUsage
// "WHERE:LINE: not a job id: TEXT".
Status parse_job_ids(std::string_view text, const std::string& where,
                     const std::function<void(std::string_view)>& each);

}  // namespace sluice::ops
