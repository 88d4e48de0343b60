// RFC 3339 times ("2026-12-01T18:00:00Z", "2026-12-01T19:00:00.250+01:00")
// to and from Unix milliseconds: the time arguments of the CLI (`submit
// --deadline`) and the times `tail` shows. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice::topics {

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), `T` and `Z` in either
// case; digits past milliseconds are dropped. kUsage errors, without file
// or flag (callers add them): "bad time 'x': expected an RFC 3339 time such
// as ...", "bad time 'x': no such date or time" (2026-02-29, 24:00:00).
Result<int64_t> parse_rfc3339(std::string_view text);

// UTC with `Z`, milliseconds only when there are any: 2026-12-01T18:00:00Z,
// 2026-12-01T18:00:00.250Z.
std::string format_rfc3339(int64_t unix_ms);

}  // namespace sluice::topics
