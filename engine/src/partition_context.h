// PartitionContext: everything the worker knows of one assigned (topic,
// partition), with an explicit lifecycle:
//
//   assigned -> kStarting -> kActive <-> kRewinding -> (revoked: drained) -> closed
//
// kStarting: its start (committed offset) is not known yet, because reading
//   it failed; it stays paused, the read is retried, and nothing it fetches
//   is run.
// A stateful stage's input partition is also paused (kPauseRestore) from
// its assignment until its state is restored, which begins once its start
// is known (worker_state.cc).
// kActive: records are taken in and run.
// kRewinding: a delivery failed; everything not acknowledged is dropped and
//   the partition is paused until the seek back to its committable position
//   succeeds. Records fetched meanwhile are stale and dropped. exactly_once:
//   a transaction aborted, so that position is the committed offset, read
//   from the broker first (reread_committed).
// Revocation drains it (running tasks finish within the deadline), commits,
// and erases it; a lost assignment erases it at once.
//
// The partition is paused in librdkafka while any pause reason is set, and
// resumed only when none is left.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "changelog_cache.h"
#include "partition_offsets.h"

namespace sluice::engine {

// Names a consumed partition: an index into the worker's consumed topics
// (its input; next, its retry topic) and the partition number.
struct TopicPartition {
  int32_t topic;
  int32_t partition;
  auto operator<=>(const TopicPartition&) const = default;
};

enum class PartitionPhase : uint8_t { kStarting, kActive, kRewinding };

enum PauseReason : uint32_t {
  kPauseFlow = 1u << 0,      // the worker holds its bound of tasks or bytes
  kPauseWindow = 1u << 1,    // this partition's offset window is full
  kPauseStarting = 1u << 2,  // start offset unknown
  kPauseRewinding = 1u << 3,
  kPauseStopping = 1u << 4,
  kPauseBackpressure = 1u << 5,  // a stage in `next` is full (worker_backpressure.cc)
  kPauseRetryDelay = 1u << 6,    // a retry partition whose head is not due yet
  kPauseRestore = 1u << 7,       // its state is being restored from the changelog
  kPauseCircuit = 1u << 8,       // the stage's circuit breaker is open
  kPauseStageDown = 1u << 9,     // the stage says it is unavailable (StageHealth)
  kPauseHeld = 1u << 10,         // the stage asked to hold off (retry_after)
};

// A record the broker refused (too large, invalid) after its task's input
// was released: when the rewind delivers that offset again, it is
// dead-lettered with this error instead of being run again.
struct RefusedOffset {
  std::string kind;
  std::string message;
};

struct PartitionContext {
  using Clock = std::chrono::steady_clock;

  TopicPartition where;
  PartitionPhase phase = PartitionPhase::kStarting;
  PartitionOffsets offsets = PartitionOffsets::from_first_fetch();
  uint32_t pause_reasons = 0;
  bool paused = false;  // as last told to librdkafka
  std::map<int64_t, RefusedOffset> refused;
  // kStarting / kRewinding: when to try the committed read or the seek again.
  Clock::time_point retry_at{};
  std::chrono::milliseconds backoff{0};
  bool reread_committed = false;  // kRewinding: read the committed offset before the seek
  // A retry partition: the due times of its records read before they were
  // due (kDelayed), in offset order. It stays paused while the first is not
  // due, so its backlog waits on the broker, not in memory.
  std::deque<Clock::time_point> delayed;
  // A stateful stage's input partition (worker_state.cc): its state must be
  // restored from restore_from before its tasks run (needs_restore), or is
  // being restored (restoring); kPauseRestore is set meanwhile.
  bool needs_restore = false;
  bool restoring = false;
  int64_t restore_from = 0;
  // at_least_once: its tasks' writes the changelog does not have yet, and
  // the offsets that wait for them (changelog_cache.h).
  ChangelogCache changelog;
  // A stage that wakes (Stage::wakes): when to send this partition a tick
  // (worker_ticks.cc); none pending when empty.
  std::optional<Clock::time_point> tick_at;

  bool should_pause() const { return pause_reasons != 0; }
  void set_reason(uint32_t reason, bool on) {
    pause_reasons = on ? (pause_reasons | reason) : (pause_reasons & ~reason);
  }
};

}  // namespace sluice::engine
