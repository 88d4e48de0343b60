#include "rfc3339.h"

#include <cctype>
#include <chrono>
#include <cstdio>

namespace sluice::ops {
namespace {

// Reads `digits` decimal digits at text[*at], advancing; -1 if they are not there.
int read_number(const std::string& text, size_t* at, int digits) {
  int value = 0;
  for (int i = 0; i < digits; ++i, ++*at) {
    if (*at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[*at]))) return -1;
    value = value * 10 + (text[*at] - '0');
  }
  return value;
}

bool expect(const std::string& text, size_t* at, const char* allowed) {
  if (*at >= text.size()) return false;
  for (const char* c = allowed; *c; ++c) {
    if (text[*at] == *c) {
      ++*at;
      return true;
    }
  }
  return false;
}

// Milliseconds of a fraction ".250" (more digits are cut, not rounded).
int read_fraction(const std::string& text, size_t* at) {
  if (*at >= text.size() || text[*at] != '.') return 0;
  ++*at;
  int millis = 0, digits = 0;
  for (; *at < text.size() && std::isdigit(static_cast<unsigned char>(text[*at])); ++*at) {
    if (digits++ < 3) millis = millis * 10 + (text[*at] - '0');
  }
  if (digits == 0) return -1;
  for (; digits < 3; ++digits) millis *= 10;
  return millis;
}

// Seconds east of UTC of "Z", "+02:00" or "-05:30"; false for anything else.
bool read_offset(const std::string& text, size_t* at, int* seconds) {
  if (expect(text, at, "Zz")) {
    *seconds = 0;
    return true;
  }
  size_t sign_at = *at;
  if (!expect(text, at, "+-")) return false;
  int hours = read_number(text, at, 2);
  if (hours < 0 || hours > 23 || !expect(text, at, ":")) return false;
  int minutes = read_number(text, at, 2);
  if (minutes < 0 || minutes > 59) return false;
  *seconds = (text[sign_at] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  return true;
}

}  // namespace

Result<int64_t> parse_rfc3339(const std::string& text) {
  using namespace std::chrono;
  size_t at = 0;
  int y = read_number(text, &at, 4);
  bool ok = y >= 0 && expect(text, &at, "-");
  int mo = ok ? read_number(text, &at, 2) : -1;
  ok = ok && mo >= 1 && mo <= 12 && expect(text, &at, "-");
  int d = ok ? read_number(text, &at, 2) : -1;
  ok = ok && d >= 1 && expect(text, &at, "Tt ");
  int h = ok ? read_number(text, &at, 2) : -1;
  ok = ok && h >= 0 && h <= 23 && expect(text, &at, ":");
  int mi = ok ? read_number(text, &at, 2) : -1;
  ok = ok && mi >= 0 && mi <= 59 && expect(text, &at, ":");
  int s = ok ? read_number(text, &at, 2) : -1;
  ok = ok && s >= 0 && s <= 60;  // 60: a leap second, counted as the next one
  int millis = ok ? read_fraction(text, &at) : -1;
  int offset = 0;
  ok = ok && millis >= 0 && read_offset(text, &at, &offset) && at == text.size();
  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ok || !date.ok()) {
    return usage_error("'" + text + "' is not an RFC 3339 time (e.g. 2025-05-01T12:00:00Z)");
  }
  seconds since_epoch = sys_days(date).time_since_epoch() + hours(h) + minutes(mi) +
                        seconds(s) - seconds(offset);
  return static_cast<int64_t>(duration_cast<milliseconds>(since_epoch).count() + millis);
}

std::string format_rfc3339(int64_t unix_ms, bool millis) {
  using namespace std::chrono;
  sys_time<milliseconds> t{milliseconds(unix_ms)};
  sys_days day = floor<days>(t);
  year_month_day date{day};
  hh_mm_ss<milliseconds> time{t - day};
  char buffer[40];
  int n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                        static_cast<unsigned>(date.day()),
                        static_cast<long long>(time.hours().count()),
                        static_cast<long long>(time.minutes().count()),
                        static_cast<long long>(time.seconds().count()));
  if (millis) {
    std::snprintf(buffer + n, sizeof buffer - n, ".%03lldZ",
                  static_cast<long long>(time.subseconds().count()));
  } else {
    std::snprintf(buffer + n, sizeof buffer - n, "Z");
  }
  return buffer;
}

}  // namespace sluice::ops
