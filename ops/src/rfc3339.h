// Times on the command line and in `sluice dlq` output: RFC 3339
// ("2025-05-01T12:00:00Z", "2025-05-01T14:00:00.250+02:00") to and from
// Unix milliseconds. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>

#include "sluice/status.h"

namespace sluice::ops {

// kUsage "'TEXT' is not an RFC 3339 time (e.g. 2025-05-01T12:00:00Z)" when
// it is not one: date, 'T' (or 't', or a space), time with optional
// fraction, then 'Z' or an offset.
Result<int64_t> parse_rfc3339(const std::string& text);
// UTC with 'Z'; milliseconds only when `millis` ("2025-05-01T12:00:00.250Z").
std::string format_rfc3339(int64_t unix_ms, bool millis = false);

}  // namespace sluice::ops
