// The settings that both `defaults` and every stage accept: partitions,
// replication, guarantee, concurrency, timeout, commit_interval, retry, circuit, backpressure,
// state, env, inherit_env, max_outputs.
//
// Reading a block applies it over a base (built-in values for `defaults`,
// the resolved defaults for a stage), so a stage overrides field by field,
// and retry/circuit/backpressure merge per sub-field. The base is always valid, so
// when the merged result breaks a cross-field rule (backoff <= max_backoff,
// high_watermark > low_watermark, commit_interval <= 5s under exactly_once) the block being read set one of the two
// fields, and the error is blamed on that field's line.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "sluice/topics/spec.h"
#include "spec_field.h"

namespace sluice::topics {

// Where a block set the fields that cross-field rules compare.
struct SettingsBlame {
  std::optional<Field> guarantee;
  std::optional<Field> commit_interval;
  std::optional<Field> backoff;
  std::optional<Field> max_backoff;
  std::optional<Field> high_watermark;
  std::optional<Field> low_watermark;
  std::optional<Field> scale_min;
  std::optional<Field> scale_max;
  std::optional<Field> concurrency;
  std::optional<Field> max_buffered_tasks;
};

std::span<const std::string_view> setting_keys();

// The longest commit_interval under exactly_once.
constexpr Millis kMaxTransactionInterval{5000};

// Applies one entry of a settings block (a key of setting_keys()) onto `into`.
Status read_setting(const Field& block, const YamlEntry& entry, StageSpec& into,
                    SettingsBlame& blame);

// The cross-field rules, on the merged result.
Status check_settings(const StageSpec& merged, const SettingsBlame& blame);

}  // namespace sluice::topics
