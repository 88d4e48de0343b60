#include "deadline_arg.h"

#include <algorithm>

#include "sluice/topics/rfc3339.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {
namespace {

// "2026-...": the start of a date.
bool looks_like_a_date(const std::string& text) {
  return text.size() > 4 && text[4] == '-' &&
         std::all_of(text.begin(), text.begin() + 4, [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<int64_t> parse_deadline(const std::string& text, int64_t now_unix_ms) {
  int64_t deadline = 0;
  if (Result<topics::Millis> d = topics::parse_duration(text); d.is_ok()) {
    deadline = now_unix_ms + d->count();
  } else if (Result<int64_t> t = topics::parse_rfc3339(text); t.is_ok()) {
    deadline = *t;
  } else if (looks_like_a_date(text)) {  // meant as a time: say what is wrong with it
    return usage_error("--deadline: " + t.status().message());
  } else {
    return usage_error("--deadline '" + text + "': expected a duration from now (30s, 5m, 2h) "
                       "or an RFC 3339 time (2026-12-01T18:00:00Z)");
  }
  if (deadline <= now_unix_ms) {
    return usage_error("--deadline " + text + ": not in the future (now is " +
                       topics::format_rfc3339(now_unix_ms) + ")");
  }
  return deadline;
}

}  // namespace sluice::ops
