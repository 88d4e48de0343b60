// gather: joins the parts of a fan-out. A task with several outputs makes
// them parts of one group (the engine writes each output's index, the count
// and the group, the task's id, into its envelope: Task::part); stages that
// make one output of a task carry the part on. Gather keeps each part as it
// arrives and, when the last one is in, sends one task on: the payload
// {"parts": [part 0, part 1, ...]} (each part's JSON as it came), with the
// group's job id and key. A group not complete within `gather.timeout` of
// its first part is dead-lettered whole (kind gather_timeout): the payload
// {"group", "count", "parts": {"<index>": part, ...}, "missing": [...]},
// the error naming the missing parts. A part that comes again (a retry
// upstream) is dropped; a part of a group that timed out starts a new one,
// which times out in its turn. A task that is no part is a group of one.
//
// State (`state: true`), partition-wide: the parts of a group meet only in
// one partition, so every part must keep its group's key (the default: an
// output's key is its task's).
//   m/<group>                       -> {"job","key","count","deadline"}
//   g/<group>\0<4-byte index>       -> the part's payload
//   d/<8-byte deadline ms><group>   -> ""  (the groups by deadline)
// Timeouts fire on ticks (Stage::wakes): the engine sends the partition a
// tick when the earliest deadline is due and after every restore of the
// partition's state; a tick dead-letters at most kExpiredPerTick groups and
// asks for the next one. Needs exactly_once (the spec says so): a part is
// done once kept, so a timed-out set's dead letter and the removal of its
// parts must commit together, or a failed write could lose it.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "builtin_stages.h"
#include "sluice/log_fields.h"
#include "sluice/stages/json_payload.h"

namespace sluice::stages {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr StageState::Scope kScope = StageState::Scope::kPartition;
constexpr size_t kExpiredPerTick = 64;
constexpr std::string_view kDeadlinePrefix = "d/";
constexpr size_t kTimeBytes = 8;

std::string meta_name(std::string_view group) { return "m/" + std::string(group); }

std::string parts_prefix(std::string_view group) {
  std::string name = "g/" + std::string(group);
  name.push_back('\0');
  return name;
}

void put_big_endian(std::string& out, uint64_t value, size_t bytes) {
  for (size_t i = bytes; i-- > 0;) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t big_endian(std::string_view bytes) {
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

// Big-endian, so that byte order is index order.
std::string part_name(std::string_view group, uint32_t index) {
  std::string name = parts_prefix(group);
  put_big_endian(name, index, 4);
  return name;
}

std::string deadline_name(int64_t deadline_ms, std::string_view group) {
  std::string name(kDeadlinePrefix);
  put_big_endian(name, static_cast<uint64_t>(deadline_ms), kTimeBytes);
  return name.append(group);
}

struct Group {
  std::string job, key;
  uint32_t count = 0;
  int64_t deadline_ms = 0;
};

std::string encode_group(const Group& g) {
  return dump_json({{"job", g.job}, {"key", g.key}, {"count", g.count},
                    {"deadline", g.deadline_ms}});
}

std::optional<Group> decode_group(const std::string& text) {
  auto parsed = parse_json(text);
  if (!parsed.is_ok() || !parsed->is_object()) return std::nullopt;
  const json& j = *parsed;
  if (!j.contains("job") || !j.contains("key") || !j.contains("count") ||
      !j.contains("deadline")) {
    return std::nullopt;
  }
  return Group{j["job"].get<std::string>(), j["key"].get<std::string>(),
               j["count"].get<uint32_t>(), j["deadline"].get<int64_t>()};
}

struct StoredPart {
  uint32_t index;
  std::string payload;
};

class GatherStage final : public SyncStage {
 public:
  explicit GatherStage(WallClock clock) : clock_(std::move(clock)) {}

  Status init(const StageContext& context) override {
    name_ = context.spec.name;
    timeout_ = context.spec.gather.timeout;
    if (!context.spec.state) {
      return usage_error("stage " + name_ + ": builtin gather keeps the parts it gathers in "
                         "the stage's state; set `state: true`");
    }
    if (timeout_.count() <= 0) {
      return usage_error("stage " + name_ + ": builtin gather needs gather: {timeout: DURATION}");
    }
    return Status::ok();
  }

  bool wakes() const override { return true; }

  Outcome process_sync(const Task& task) override {
    if (task.state == nullptr) {
      return Outcome::fail("no_state", "stage " + name_ + ": the worker gave no state");
    }
    if (task.tick) return sweep(*task.state, now_ms());
    if (!is_json_content_type(task.content_type) || !parse_json(task.payload).is_ok()) {
      return Outcome::fail("invalid_input", "stage " + name_ + ": a part's payload must be JSON");
    }
    if (!task.part) return combined({{0, task.payload}});
    const TaskPart& part = *task.part;
    if (part.count == 0 || part.index >= part.count) {
      return Outcome::fail("invalid_input", "stage " + name_ + ": part " +
                                                std::to_string(part.index) + " of " +
                                                std::to_string(part.count) + " cannot be");
    }
    return take_part(task, part, *task.state);
  }

 private:
  int64_t now_ms() const {
    return std::chrono::duration_cast<milliseconds>(clock_().time_since_epoch()).count();
  }

  Outcome take_part(const Task& task, const TaskPart& part, StageState& state) {
    auto stored = state.get(meta_name(part.group), kScope);
    if (!stored.is_ok()) return state_failure(stored.status());
    Outcome outcome;
    Group group;
    if (*stored) {
      auto decoded = decode_group(**stored);
      if (!decoded) return Outcome::fail("bad_state", "stage " + name_ + ": group " +
                                                          part.group + " is not readable");
      group = *decoded;
      if (group.count != part.count) {
        return Outcome::fail("invalid_input", "stage " + name_ + ": part " +
                                                  std::to_string(part.index) + " of group " +
                                                  part.group + " says " +
                                                  std::to_string(part.count) +
                                                  " parts, its group " +
                                                  std::to_string(group.count));
      }
    } else {
      group = {task.job_id, task.key, part.count, now_ms() + timeout_.count()};
      if (Status s = state.put(meta_name(part.group), encode_group(group), kScope); !s.is_ok()) {
        return state_failure(s);
      }
      if (Status s = state.put(deadline_name(group.deadline_ms, part.group), "", kScope);
          !s.is_ok()) {
        return state_failure(s);
      }
      outcome.wake_after = timeout_;
    }
    auto parts = stored_parts(state, part.group);
    if (!parts.is_ok()) return state_failure(parts.status());
    for (const StoredPart& p : *parts) {
      if (p.index == part.index) {
        ScopedLogFields fields({name_, task.job_id, task.id, task.attempt, {}});
        spdlog::debug("stage {}: dropped part {} of group {} (job {}): it came before",
                      name_, part.index, part.group, task.job_id);
        return outcome;
      }
    }
    if (parts->size() + 1 < part.count) {
      if (Status s = state.put(part_name(part.group, part.index), task.payload, kScope);
          !s.is_ok()) {
        return state_failure(s);
      }
      return outcome;
    }
    std::vector<StoredPart> all = std::move(parts).value();
    all.push_back({part.index, task.payload});
    std::sort(all.begin(), all.end(),
              [](const StoredPart& a, const StoredPart& b) { return a.index < b.index; });
    forget(state, part.group, group.deadline_ms, all);
    return combined(all);
  }

  // One task with every part, in index order, their JSON as it came.
  static Outcome combined(const std::vector<StoredPart>& parts) {
    std::string payload = "{\"parts\":[";
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) payload += ',';
      payload += one_line_json(parts[i].payload);
    }
    payload += "]}";
    Outcome outcome;
    Output& out = outcome.outputs.emplace_back();
    out.payload = std::move(payload);
    out.content_type = kJsonContentType;
    outcome.ends_fan_out = true;
    return outcome;
  }

  // The group's parts kept so far.
  Result<std::vector<StoredPart>> stored_parts(StageState& state, std::string_view group) const {
    std::string prefix = parts_prefix(group);
    std::vector<StoredPart> parts;
    Status s = state.scan(prefix, [&](std::string_view name, std::string_view value) {
      parts.push_back({static_cast<uint32_t>(big_endian(name.substr(prefix.size()))),
                       std::string(value)});
      return true;
    }, kScope);
    if (!s.is_ok()) return s;
    return parts;
  }

  static void forget(StageState& state, std::string_view group, int64_t deadline_ms,
                     const std::vector<StoredPart>& parts) {
    for (const StoredPart& p : parts) state.erase(part_name(group, p.index), kScope);
    state.erase(meta_name(group), kScope);
    state.erase(deadline_name(deadline_ms, group), kScope);
  }

  // A tick: the groups past their deadline go to the dead letters, the
  // oldest first, at most kExpiredPerTick; then the next deadline is asked for.
  Outcome sweep(StageState& state, int64_t now) {
    std::vector<std::string> expired;
    std::optional<int64_t> next_deadline;
    Status s = state.scan(kDeadlinePrefix, [&](std::string_view name, std::string_view) {
      int64_t deadline = static_cast<int64_t>(
          big_endian(name.substr(kDeadlinePrefix.size(), kTimeBytes)));
      if (deadline > now || expired.size() == kExpiredPerTick) {
        next_deadline = deadline;
        return false;
      }
      expired.emplace_back(name);
      return true;
    }, kScope);
    if (!s.is_ok()) return state_failure(s);
    Outcome outcome;
    for (const std::string& name : expired) {
      std::string group(name.substr(kDeadlinePrefix.size() + kTimeBytes));
      if (Status e = expire(state, group, name, outcome); !e.is_ok()) return state_failure(e);
    }
    if (next_deadline) outcome.wake_after = milliseconds(std::max<int64_t>(*next_deadline - now, 0));
    return outcome;
  }

  Status expire(StageState& state, const std::string& group, const std::string& deadline_entry,
                Outcome& outcome) {
    auto stored = state.get(meta_name(group), kScope);
    if (!stored.is_ok()) return stored.status();
    std::optional<Group> meta = *stored ? decode_group(**stored) : std::nullopt;
    auto parts = stored_parts(state, group);
    if (!parts.is_ok()) return parts.status();
    state.erase(deadline_entry, kScope);
    if (!meta) return Status::ok();  // not ours, or gone: nothing to send
    forget(state, group, meta->deadline_ms, *parts);
    std::vector<bool> arrived(meta->count, false);
    std::string kept = "{";
    for (size_t i = 0; i < parts->size(); ++i) {
      const StoredPart& p = (*parts)[i];
      if (p.index < arrived.size()) arrived[p.index] = true;
      if (i > 0) kept += ',';
      kept += dump_json(std::to_string(p.index)) + ":" + one_line_json(p.payload);
    }
    kept += "}";
    json missing = json::array();
    std::string missing_text;
    for (uint32_t i = 0; i < meta->count; ++i) {
      if (arrived[i]) continue;
      missing.push_back(i);
      missing_text += (missing_text.empty() ? "" : ", ") + std::to_string(i);
    }
    std::string payload = with_raw_member(
        dump_json({{"group", group}, {"count", meta->count}, {"missing", missing}}), "parts",
        kept);
    outcome.dead_letters.push_back(
        {meta->job, meta->key, std::move(payload), "gather_timeout",
         "stage " + name_ + ": " + std::to_string(parts->size()) + " of " +
             std::to_string(meta->count) + " parts of group " + group + " arrived within " +
             std::to_string(timeout_.count()) + " ms; missing part" +
             (missing.size() == 1 ? " " : "s ") + missing_text});
    return Status::ok();
  }

  // A part's JSON on one line (a kept payload may hold line breaks).
  static std::string one_line_json(const std::string& text) {
    return text.find_first_of("\r\n") == std::string::npos ? text : dump_json(json::parse(text));
  }

  WallClock clock_;
  std::string name_;
  milliseconds timeout_{0};
};

}  // namespace

std::unique_ptr<Stage> make_gather_stage() {
  return std::make_unique<GatherStage>([] { return std::chrono::system_clock::now(); });
}

std::unique_ptr<Stage> make_gather_stage_with_clock(WallClock clock) {
  return std::make_unique<GatherStage>(std::move(clock));
}

}  // namespace sluice::stages
