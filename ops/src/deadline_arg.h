// `sluice submit --deadline D`: when the jobs must be done by.
#pragma once

#include <cstdint>
#include <string>

#include "sluice/status.h"

namespace sluice::ops {

// D is a duration from `now_unix_ms` ("30s", "5m": topics::parse_duration)
// or an RFC 3339 time ("2026-12-01T18:00:00Z", "...+01:00"); the result is
// Unix milliseconds, after now. kUsage errors, one line naming the flag.
Result<int64_t> parse_deadline(const std::string& text, int64_t now_unix_ms);

}  // namespace sluice::ops
