#include "settings_reader.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "sluice/topics/env_expand.h"  // is_env_name
#include "sluice/topics/spec_fields.h"

namespace sluice::topics {
namespace {

using Reader = Status (*)(const Field&, StageSpec&, SettingsBlame&);

struct KeyReader {
  std::string_view key;
  Reader read;
};

Status read_int_into(const Field& f, int& out, int lo, int hi) {
  Result<int64_t> v = read_int(f, lo, hi);
  if (!v.is_ok()) return v.status();
  out = static_cast<int>(*v);
  return Status::ok();
}

Status read_int_into(const Field& f, int64_t& out, int64_t lo) {
  Result<int64_t> v = read_int(f, lo, std::numeric_limits<int64_t>::max());
  if (!v.is_ok()) return v.status();
  out = *v;
  return Status::ok();
}

Status read_duration_into(const Field& f, Millis& out, Millis min) {
  Result<Millis> v = read_duration(f, min);
  if (!v.is_ok()) return v.status();
  out = *v;
  return Status::ok();
}

// An enum-valued setting: `names[i]` is written for `values[i]`.
template <typename Enum, size_t N>
Status read_enum_into(const Field& f, Enum& out, const std::string_view (&names)[N],
                      const Enum (&values)[N]) {
  Result<size_t> i = read_choice(f, names);
  if (i.is_ok()) out = values[*i];
  return i.status();
}

constexpr std::string_view kGuaranteeNames[] = {"at_least_once", "exactly_once"};
constexpr Guarantee kGuarantees[] = {Guarantee::kAtLeastOnce, Guarantee::kExactlyOnce};
constexpr std::string_view kRetryModeNames[] = {"topic", "in_place"};
constexpr RetryMode kRetryModes[] = {RetryMode::kTopic, RetryMode::kInPlace};

Status read_guarantee(const Field& f, StageSpec& s, SettingsBlame& b) {
  b.guarantee = f;
  return read_enum_into(f, s.guarantee, kGuaranteeNames, kGuarantees);
}

Status read_commit_interval(const Field& f, StageSpec& s, SettingsBlame& b) {
  b.commit_interval = f;
  Millis interval{};
  Status st = read_duration_into(f, interval, Millis{1});
  if (st.is_ok()) s.commit_interval = interval;
  return st;
}

Status read_state(const Field& f, StageSpec& s, SettingsBlame&) {
  Result<bool> v = read_bool(f);
  if (!v.is_ok()) return v.status();
  s.state = *v;
  return Status::ok();
}

// NAME: value pairs, merged over the base's (a stage adds to `defaults`).
Status read_env(const Field& f, StageSpec& s, SettingsBlame&) {
  Status st = expect_map(f);
  for (size_t i = 0; st.is_ok() && i < f.node->entries.size(); ++i) {
    const YamlEntry& e = f.node->entries[i];
    Field entry = f.entry(e);
    if (!is_env_name(e.key)) return entry.error("not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    Result<std::string> value = read_expanded(entry);
    if (!value.is_ok()) return value.status();
    s.env[e.key] = std::move(value).value();
  }
  return st;
}

Status read_sub_fields(const Field& f, SpecSection section,
                       std::span<const KeyReader> readers, StageSpec& s, SettingsBlame& blame);

constexpr KeyReader kRetryReaders[] = {
    {"max_attempts", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_int_into(f, s.retry.max_attempts, 1, 1000); }},
    {"backoff", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       b.backoff = f;
       return read_duration_into(f, s.retry.backoff, Millis{0}); }},
    {"max_backoff", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       b.max_backoff = f;
       return read_duration_into(f, s.retry.max_backoff, Millis{0}); }},
    {"mode", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_enum_into(f, s.retry.mode, kRetryModeNames, kRetryModes); }},
};

constexpr KeyReader kCircuitReaders[] = {
    {"failures", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_int_into(f, s.circuit.failures, 1, 1000000); }},
    {"failure_rate", [](const Field& f, StageSpec& s, SettingsBlame&) {
       Result<int> v = read_percent(f);
       if (v.is_ok()) s.circuit.failure_rate = *v;
       return v.status(); }},
    {"window", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_duration_into(f, s.circuit.window, Millis{1}); }},
    {"cool_down", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_duration_into(f, s.circuit.cool_down, Millis{1}); }},
};

// `off` or `false`: no circuit (over one from defaults, too). A map turns it
// on, its keys merged over the base's like retry's.
Status read_circuit(const Field& f, StageSpec& s, SettingsBlame& blame) {
  const YamlNode& n = *f.node;
  if (n.kind == YamlNode::Kind::kScalar && (n.text == "off" || n.text == "false")) {
    s.circuit.enabled = false;
    return Status::ok();
  }
  if (n.kind != YamlNode::Kind::kMap && n.kind != YamlNode::Kind::kNull) {
    std::string keys;
    for (std::string_view k : spec_fields(SpecSection::kCircuit)) {
      keys += (keys.empty() ? "" : ", ") + std::string(k);
    }
    std::string got = n.kind == YamlNode::Kind::kScalar ? quoted(n.text) : yaml_kind_name(n.kind);
    return f.error("expected off, false or a map (" + keys + "), got " + got);
  }
  s.circuit.enabled = true;
  return read_sub_fields(f, SpecSection::kCircuit, kCircuitReaders, s, blame);
}

constexpr KeyReader kBackpressureReaders[] = {
    {"high_watermark", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       b.high_watermark = f;
       return read_int_into(f, s.backpressure.high_watermark, 1); }},
    {"low_watermark", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       b.low_watermark = f;
       return read_int_into(f, s.backpressure.low_watermark, 0); }},
};

constexpr KeyReader kScaleReaders[] = {
    {"min", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       b.scale_min = f;
       return read_int_into(f, s.scale.min, 0, 10000); }},
    {"max", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       b.scale_max = f;
       return read_int_into(f, s.scale.max, 1, 10000); }},
};

constexpr KeyReader kSloReaders[] = {
    {"end_to_end_p99", [](const Field& f, StageSpec& s, SettingsBlame&) {
       Millis p99{0};
       Status st = read_duration_into(f, p99, Millis{1});
       if (st.is_ok()) s.slo.end_to_end_p99 = p99;
       return st; }},
};

constexpr KeyReader kSettingReaders[] = {
    {"partitions", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_int_into(f, s.partitions, 1, 10000); }},
    {"replication", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_int_into(f, s.replication, 1, 32767); }},
    {"guarantee", read_guarantee},
    {"concurrency", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       b.concurrency = f;
       return read_int_into(f, s.concurrency, 1, 10000); }},
    {"timeout", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_duration_into(f, s.timeout, Millis{1}); }},
    {"commit_interval", read_commit_interval},
    {"retry", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       return read_sub_fields(f, SpecSection::kRetry, kRetryReaders, s, b); }},
    {"circuit", read_circuit},
    {"backpressure", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       return read_sub_fields(f, SpecSection::kBackpressure, kBackpressureReaders, s, b); }},
    {"scale", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       return read_sub_fields(f, SpecSection::kScale, kScaleReaders, s, b); }},
    {"slo", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       return read_sub_fields(f, SpecSection::kSlo, kSloReaders, s, b); }},
    {"lag_threshold", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_int_into(f, s.lag_threshold, 1); }},
    {"state", read_state},
    {"state_dir", [](const Field& f, StageSpec& s, SettingsBlame&) {
       Result<std::string> v = read_expanded(f);
       if (v.is_ok() && v->empty()) return f.error("must not be empty");
       if (v.is_ok()) s.state_dir = std::move(v).value();
       return v.status(); }},
    {"env", read_env},
    {"inherit_env", [](const Field& f, StageSpec& s, SettingsBlame&) {
       Result<bool> v = read_bool(f);
       if (v.is_ok()) s.inherit_env = *v;
       return v.status(); }},
    {"max_outputs", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_int_into(f, s.max_outputs, 1, 100000); }},
    {"max_state_bytes", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_int_into(f, s.max_state_bytes, 1024, 64 * 1024 * 1024); }},
    {"max_buffered_tasks", [](const Field& f, StageSpec& s, SettingsBlame& b) {
       b.max_buffered_tasks = f;
       return read_int_into(f, s.max_buffered_tasks, 1, 1000000); }},
    {"max_buffered_bytes", [](const Field& f, StageSpec& s, SettingsBlame&) {
       return read_int_into(f, s.max_buffered_bytes, 1024 * 1024, 1024 * 1024 * 1024); }},
};

// `key` passed check_map against spec_fields(), the one list of accepted
// keys; a key listed there without a reader here is this file's bug.
const KeyReader& find_reader(std::span<const KeyReader> readers, std::string_view key) {
  auto it = std::find_if(readers.begin(), readers.end(),
                         [&](const KeyReader& r) { return r.key == key; });
  SLUICE_CHECK(it != readers.end(), "spec field without a reader: " + std::string(key));
  return *it;
}

// A sub-map (retry, backpressure): unknown keys refused, the rest applied.
Status read_sub_fields(const Field& f, SpecSection section,
                       std::span<const KeyReader> readers, StageSpec& s, SettingsBlame& blame) {
  Status st = check_map(f, spec_fields(section));
  for (size_t i = 0; st.is_ok() && i < f.node->entries.size(); ++i) {
    Field sub = f.entry(f.node->entries[i]);
    st = find_reader(readers, f.node->entries[i].key).read(sub, s, blame);
  }
  return st;
}

const Field& blame_one(const std::optional<Field>& first, const std::optional<Field>& second) {
  SLUICE_CHECK(first || second, "a valid base cannot break a cross-field rule");
  return first ? *first : *second;
}

}  // namespace

std::span<const std::string_view> setting_keys() { return spec_fields(SpecSection::kSettings); }

Status read_setting(const Field& block, const YamlEntry& entry, StageSpec& into,
                    SettingsBlame& blame) {
  return find_reader(kSettingReaders, entry.key).read(block.entry(entry), into, blame);
}

Status check_settings(const StageSpec& merged, const SettingsBlame& blame) {
  const RetryPolicy& r = merged.retry;
  if (r.backoff > r.max_backoff) {
    return blame_one(blame.backoff, blame.max_backoff)
        .error("backoff " + format_duration(r.backoff) + " exceeds max_backoff " +
               format_duration(r.max_backoff));
  }
  // A transaction stays open about commit_interval, plus its acks and its
  // commit (up to 8 s at worst); the broker aborts one open past
  // transaction.timeout.ms (10 s by default).
  if (merged.guarantee == Guarantee::kExactlyOnce && merged.commit_interval &&
      *merged.commit_interval > kMaxTransactionInterval) {
    return blame_one(blame.commit_interval, blame.guarantee)
        .error("commit_interval " + format_duration(*merged.commit_interval) +
               " is above " + format_duration(kMaxTransactionInterval) +
               " under exactly_once (a transaction stays open that long, and the broker "
               "aborts one open past transaction.timeout.ms, 10s by default)");
  }
  const BackpressurePolicy& bp = merged.backpressure;
  if (bp.high_watermark <= bp.low_watermark) {
    return blame_one(blame.high_watermark, blame.low_watermark)
        .error("high_watermark " + std::to_string(bp.high_watermark) +
               " must be greater than low_watermark " + std::to_string(bp.low_watermark));
  }
  // The tasks in flight are buffered too: below concurrency, the buffer
  // would cap it silently.
  if (merged.max_buffered_tasks < merged.concurrency) {
    return blame_one(blame.max_buffered_tasks, blame.concurrency)
        .error("max_buffered_tasks " + std::to_string(merged.max_buffered_tasks) +
               " is below concurrency " + std::to_string(merged.concurrency) +
               " (the tasks in flight are buffered too)");
  }
  const ScalePolicy& scale = merged.scale;
  if (scale.max != 0 && scale.max < scale.min) {
    return blame_one(blame.scale_max, blame.scale_min)
        .error("scale.max " + std::to_string(scale.max) + " is below scale.min " +
               std::to_string(scale.min));
  }
  return Status::ok();
}

}  // namespace sluice::topics
