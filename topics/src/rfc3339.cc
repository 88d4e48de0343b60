// RFC 3339 through <chrono>'s calendar: no gmtime/timegm, no time zone
// database (an RFC 3339 time carries its own offset).
#include "sluice/topics/rfc3339.h"

#include <chrono>
#include <cstdio>
#include <optional>

namespace sluice::topics {
namespace {

using namespace std::chrono;

// Reads the text left to right; any mismatch ends the parse.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  // Exactly `width` digits.
  std::optional<int> digits(size_t width) {
    if (text_.size() - pos_ < width) return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < width; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos_ += width;
    return value;
  }
  // One of `chars`; which one, or '\0'.
  char one_of(std::string_view chars) {
    if (pos_ == text_.size() || chars.find(text_[pos_]) == std::string_view::npos) return '\0';
    return text_[pos_++];
  }
  bool at_end() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

struct Fields {
  int year, month, day, hour, minute, second, millis = 0;
  int offset_sign = 1, offset_hours = 0, offset_minutes = 0;
};

std::optional<Fields> read_fields(std::string_view text) {
  Cursor c(text);
  Fields f{};
  auto part = [&c](int& out, size_t width, std::string_view after) {
    std::optional<int> v = c.digits(width);
    if (v) out = *v;
    return v && (after.empty() || c.one_of(after));
  };
  if (!part(f.year, 4, "-") || !part(f.month, 2, "-") || !part(f.day, 2, "Tt") ||
      !part(f.hour, 2, ":") || !part(f.minute, 2, ":") || !part(f.second, 2, "")) {
    return std::nullopt;
  }
  if (c.one_of(".")) {
    int scale = 100, fraction_digits = 0;
    while (std::optional<int> d = c.digits(1)) {
      f.millis += *d * scale;
      scale /= 10;
      ++fraction_digits;
    }
    if (fraction_digits == 0) return std::nullopt;
  }
  if (char sign = c.one_of("Zz+-"); sign == '+' || sign == '-') {
    f.offset_sign = sign == '+' ? 1 : -1;
    if (!part(f.offset_hours, 2, ":") || !part(f.offset_minutes, 2, "")) return std::nullopt;
  } else if (sign == '\0') {
    return std::nullopt;
  }
  if (!c.at_end()) return std::nullopt;
  return f;
}

Status bad(std::string_view text, const std::string& why) {
  return usage_error("bad time '" + std::string(text) + "': " + why);
}

}  // namespace

Result<int64_t> parse_rfc3339(std::string_view text) {
  std::optional<Fields> f = read_fields(text);
  if (!f) {
    return bad(text, "expected an RFC 3339 time such as 2026-12-01T18:00:00Z or "
                     "2026-12-01T19:00:00+01:00");
  }
  year_month_day date{year{f->year}, month{static_cast<unsigned>(f->month)},
                      day{static_cast<unsigned>(f->day)}};
  // A leap second (:60) is refused too: Unix time has no place for it.
  if (!date.ok() || f->hour > 23 || f->minute > 59 || f->second > 59 || f->offset_hours > 23 ||
      f->offset_minutes > 59) {
    return bad(text, "no such date or time");
  }
  sys_time<milliseconds> t = sys_days{date} + hours{f->hour} + minutes{f->minute} +
                             seconds{f->second} + milliseconds{f->millis} -
                             f->offset_sign * (hours{f->offset_hours} + minutes{f->offset_minutes});
  return t.time_since_epoch().count();
}

std::string format_rfc3339(int64_t unix_ms) {
  sys_time<milliseconds> t{milliseconds{unix_ms}};
  sys_days day_start = floor<days>(t);
  year_month_day date{day_start};
  hh_mm_ss<milliseconds> time{t - day_start};
  char out[40];
  int n = std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d", int{date.year()},
                        unsigned{date.month()}, unsigned{date.day()},
                        static_cast<int>(time.hours().count()),
                        static_cast<int>(time.minutes().count()),
                        static_cast<int>(time.seconds().count()));
  int64_t millis = time.subseconds().count();
  if (millis != 0) n += std::snprintf(out + n, sizeof out - n, ".%03d", static_cast<int>(millis));
  return std::string(out, n) + "Z";
}

}  // namespace sluice::topics
