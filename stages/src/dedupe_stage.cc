// dedupe: drops a task whose identity the stage passed within `dedupe.window`;
// passes any other on unchanged (like passthrough) and remembers it. The
// identity is the job id, or with `dedupe.field` the JSON text of that
// top-level payload field ("A" and 1 differ). The first task after the window
// passes again and starts a new window; a dropped task does not extend it.
//
// State (`state: true`), partition-wide (Scope::kPartition), so a job's
// identity is found under any key of the partition:
//   seen/<identity>                       -> "<millis> <task id>", when it passed
//   exp/<8-byte big-endian millis><identity> -> "<millis>", the same entries by time
// Only tasks of the same input partition are compared: users key their jobs
// by the dedupe field (`sluice submit --key-field F`) so that repeats meet.
// Each task deletes at most kExpiredPerTask entries past the window, the
// oldest first (the index is in byte order, so in time order): the work per
// task is bounded, and since a task adds at most one entry, the state holds
// about a window's worth of identities.
//
// A drop is Outcome::ok with no outputs: its input offset completes, and it
// counts as outcome "ok" in sluice_tasks_total (the engine has no separate
// count of drops); each drop is logged at debug level. A task that passed
// and is run again with the same task id (under at_least_once, after a
// failed delivery or a crash, its state write may have outlived its output)
// passes again: a duplicate rather than a loss. The clock is the wall clock
// (system_clock), as the engine's deadlines are; tests inject their own.
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "builtin_stages.h"
#include "sluice/log_fields.h"
#include "sluice/stages/json_payload.h"

namespace sluice::stages {

namespace {

constexpr StageState::Scope kScope = StageState::Scope::kPartition;
constexpr size_t kExpiredPerTask = 16;
constexpr std::string_view kSeenPrefix = "seen/";
constexpr std::string_view kExpiryPrefix = "exp/";
constexpr size_t kTimeBytes = 8;

std::string seen_name(std::string_view identity) {
  return std::string(kSeenPrefix) + std::string(identity);
}

// Big-endian, so that byte order is time order (times are never negative).
std::string expiry_name(int64_t millis, std::string_view identity) {
  std::string name(kExpiryPrefix);
  for (int shift = 56; shift >= 0; shift -= 8) {
    name.push_back(static_cast<char>((static_cast<uint64_t>(millis) >> shift) & 0xff));
  }
  return name.append(identity);
}

bool is_expiry_name(std::string_view name) {
  return name.size() >= kExpiryPrefix.size() + kTimeBytes;
}

// The identity in an expiry name (is_expiry_name).
std::string_view expiry_identity(std::string_view name) {
  return name.substr(kExpiryPrefix.size() + kTimeBytes);
}

// The time in an expiry name; the lowest time for one this stage did not
// write, so that it is deleted first.
int64_t expiry_time(std::string_view name) {
  if (!is_expiry_name(name)) return std::numeric_limits<int64_t>::min();
  uint64_t millis = 0;
  for (size_t i = 0; i < kTimeBytes; ++i) {
    millis = (millis << 8) | static_cast<unsigned char>(name[kExpiryPrefix.size() + i]);
  }
  return static_cast<int64_t>(millis);
}

struct Seen {
  int64_t at_ms = 0;
  std::string task_id;
};

std::string encode_seen(const Seen& seen) {
  return std::to_string(seen.at_ms) + " " + seen.task_id;
}

// nullopt for a value this stage did not write: treated as never seen.
std::optional<Seen> decode_seen(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  Seen seen;
  const char* end = value->data() + value->size();
  auto [rest, error] = std::from_chars(value->data(), end, seen.at_ms);
  if (error != std::errc() || rest == end || *rest != ' ') return std::nullopt;
  seen.task_id.assign(rest + 1, end);
  return seen;
}

class DedupeStage final : public SyncStage {
 public:
  explicit DedupeStage(WallClock clock) : clock_(std::move(clock)) {}

  Status init(const StageContext& context) override {
    name_ = context.spec.name;
    window_ms_ = context.spec.dedupe.window.count();
    field_ = context.spec.dedupe.field;
    if (!context.spec.state) {
      return usage_error("stage " + name_ + ": builtin dedupe remembers the jobs it has seen "
                         "in the stage's state; set `state: true`");
    }
    if (window_ms_ < 1000) {
      return usage_error("stage " + name_ + ": builtin dedupe needs dedupe: {window: DURATION}, "
                         "at least 1s");
    }
    return Status::ok();
  }

  Outcome process_sync(const Task& task) override {
    if (task.state == nullptr) {
      return Outcome::fail("no_state", "stage " + name_ + ": the worker gave no state");
    }
    Result<std::string> identity = identity_of(task);
    if (!identity.is_ok()) return Outcome::fail("invalid_input", identity.status().message());
    const int64_t now = now_ms();
    if (Status s = expire_some(*task.state, now); !s.is_ok()) return state_failure(s);
    Result<std::optional<std::string>> stored = task.state->get(seen_name(*identity), kScope);
    if (!stored.is_ok()) return state_failure(stored.status());
    std::optional<Seen> seen = decode_seen(*stored);
    if (seen && seen->at_ms > now - window_ms_) {  // within the window
      if (seen->task_id == task.id) return pass(task);  // this task, run again
      ScopedLogFields fields({name_, task.job_id, task.id, task.attempt, {}});
      spdlog::debug("stage {}: dropped task {} of job {}: {} passed {} ms ago (task {})", name_,
                    task.id, task.job_id, *identity, now - seen->at_ms, seen->task_id);
      return Outcome::ok({});
    }
    if (Status s = remember(*task.state, *identity, seen, {now, task.id}); !s.is_ok()) {
      return state_failure(s);
    }
    return pass(task);
  }

 private:
  int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch())
        .count();
  }

  // The job id, or the JSON text of the payload's field `field_`.
  Result<std::string> identity_of(const Task& task) const {
    if (field_.empty()) return task.job_id;
    Result<nlohmann::json> parsed = parse_json(task.payload);
    if (!parsed.is_ok() || !parsed->is_object()) {
      return invalid_input("stage " + name_ + ": payload is not a JSON object, so it has no "
                           "field '" + field_ + "' (dedupe.field)");
    }
    auto it = parsed->find(field_);
    if (it == parsed->end()) {
      return invalid_input("stage " + name_ + ": payload has no field '" + field_ +
                           "' (dedupe.field)");
    }
    return dump_json(*it);
  }

  // Deletes the oldest entries past the window, at most kExpiredPerTask.
  Status expire_some(StageState& state, int64_t now) const {
    std::vector<std::string> expired;
    Status s = state.scan(kExpiryPrefix, [&](std::string_view name, std::string_view) {
      if (expired.size() == kExpiredPerTask || expiry_time(name) > now - window_ms_) return false;
      expired.emplace_back(name);
      return true;
    }, kScope);
    for (size_t i = 0; s.is_ok() && i < expired.size(); ++i) s = forget(state, expired[i]);
    return s;
  }

  // Deletes the expiry entry `name` and the identity's seen entry with it.
  static Status forget(StageState& state, const std::string& name) {
    state.erase(name, kScope);
    if (!is_expiry_name(name)) return Status::ok();
    std::string seen = seen_name(expiry_identity(name));
    Result<std::optional<std::string>> stored = state.get(seen, kScope);
    if (!stored.is_ok()) return stored.status();
    std::optional<Seen> entry = decode_seen(*stored);
    // A newer pass of the identity has its own index entry: keep it.
    if (!entry || entry->at_ms == expiry_time(name)) state.erase(seen, kScope);
    return Status::ok();
  }

  // Records that `identity` passed now; its earlier pass (past the window)
  // leaves the index.
  Status remember(StageState& state, const std::string& identity,
                  const std::optional<Seen>& before, const Seen& now) const {
    if (before) state.erase(expiry_name(before->at_ms, identity), kScope);
    Status s = state.put(seen_name(identity), encode_seen(now), kScope);
    if (!s.is_ok()) return s;
    return state.put(expiry_name(now.at_ms, identity), std::to_string(now.at_ms), kScope);
  }

  // One output: the input's bytes, key and content type.
  static Outcome pass(const Task& task) {
    Outcome outcome;
    outcome.outputs.emplace_back().payload = task.payload;
    return outcome;
  }

  WallClock clock_;
  std::string name_;
  int64_t window_ms_ = 0;
  std::string field_;
};

}  // namespace

std::unique_ptr<Stage> make_dedupe_stage() {
  return std::make_unique<DedupeStage>([] { return std::chrono::system_clock::now(); });
}

std::unique_ptr<Stage> make_dedupe_stage_with_clock(WallClock clock) {
  return std::make_unique<DedupeStage>(std::move(clock));
}

}  // namespace sluice::stages
