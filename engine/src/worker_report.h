// What each worker tells `sluice status` about itself, through the broker,
// so that status needs no connection to any worker: every
// kWorkerReportInterval the worker commits, for each input partition it
// owns, a report to the group sluice.<p>.<stage>.status (never joined; only
// these commits) with metadata
//
//   "worker <at unix ms> <progress unix ms> <rate> <paused-by stage or ->"
//
// `progress` is when the worker last finished a task or held none: a
// partition with records waiting whose report is stale (a stopped or dead
// worker) or whose progress is old (a hung one) is stuck. `paused-by` names
// the stage in `next` whose depth holds this one back (backpressure).
// `rate` is the worker's tasks ended a second (smoothed over ~10 s), in
// thousandths, divided among the partitions it reports for: summed over a
// stage's partitions, the reports give the stage's throughput.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::engine {

inline constexpr std::chrono::milliseconds kWorkerReportInterval{1000};
// A report older than this is from a worker that stopped reporting. Well
// under the default session timeout (10 s, kafka_client.cc), so that a
// frozen worker shows stuck before its group evicts it (after which its
// partitions move, or the stage has no workers).
inline constexpr std::chrono::milliseconds kWorkerReportStale{5000};
// A worker that reports but ends no task for its stage's timeout and this
// long, while it holds some, is hung.
inline constexpr std::chrono::milliseconds kNoProgressGrace{10000};

struct WorkerReport {
  int64_t at_unix_ms = 0;
  int64_t progress_unix_ms = 0;
  int64_t millitasks_per_second = 0;  // this partition's share
  std::string paused_by;  // empty: not held back
};

std::string encode_worker_report(const WorkerReport& report);
// nullopt for metadata this did not write.
std::optional<WorkerReport> parse_worker_report(std::string_view metadata);

// Whether a partition with records waiting is stuck, by its report at
// now_unix_ms: stale (its worker stopped reporting) or no progress for
// stuck_after_ms (a hung one). Without a report, only when its group is
// settled (`group_stable`): while a group rebalances, a partition is nobody's
// yet, and a worker reports as soon as it is assigned (before, within a
// second of it: a status taken then showed a just-started pipeline stuck).
bool report_shows_stuck(const std::optional<WorkerReport>& report, int64_t now_unix_ms,
                        int64_t stuck_after_ms, bool group_stable);

}  // namespace sluice::engine
