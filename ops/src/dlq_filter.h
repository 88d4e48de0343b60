// The selection of `sluice dlq list` and `sluice dlq replay`: a DlqSelection
// (the flags as typed) checked and compiled into a DlqFilter, which tells
// whether one dead letter is selected. Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>

#include "commands.h"
#include "dead_letter.h"
#include "sluice/status.h"

namespace sluice::ops {

struct DlqFilter {
  std::string job;    // empty: any
  std::string kind;   // empty: any
  std::string error;  // a substring; empty: any
  std::optional<std::regex> error_regex;
  std::optional<int64_t> since_unix_ms, until_unix_ms;  // inclusive bounds
  bool not_replayed = false;

  bool matches(const DeadLetter& letter) const;
};

// kUsage, one line naming the flag, for a bad --since/--until ("10m" or RFC
// 3339) or --error regex, or a negative --max. Durations count back from `now_unix_ms`.
Result<DlqFilter> make_filter(const DlqSelection& selection, int64_t now_unix_ms);

// "10m" (topics::parse_duration) back from `now_unix_ms`, or an RFC 3339
// time; kUsage "--FLAG: ..." otherwise.
Result<int64_t> parse_time_bound(const std::string& flag, const std::string& text,
                                 int64_t now_unix_ms);

}  // namespace sluice::ops
