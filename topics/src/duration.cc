// Durations in the spec: a decimal integer and a unit, nothing else.
#include <charconv>
#include <cstdint>
#include <string_view>

#include "sluice/topics/spec.h"

namespace sluice::topics {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
};
// Largest first, so format_duration picks the unit that reads best.
constexpr Unit kUnits[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};

// Durations end up added to clock readings in nanoseconds; a year keeps that
// arithmetic far from overflow, and no timeout or backoff needs more.
constexpr int64_t kMaxMillis = int64_t{365} * 24 * 3600000;

const Unit* find_unit(std::string_view suffix) {
  for (const Unit& u : kUnits) {
    if (u.suffix == suffix) return &u;
  }
  return nullptr;
}

Status bad(const std::string& text, const std::string& why) {
  return usage_error("bad duration '" + text + "': " + why);
}

}  // namespace

Result<Millis> parse_duration(const std::string& text) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  // Only digits: from_chars alone would accept a leading '-'.
  const char* digits_end = begin;
  while (digits_end != end && *digits_end >= '0' && *digits_end <= '9') ++digits_end;
  if (digits_end == begin) return bad(text, "expected a whole number and a unit, e.g. 30s");
  const Unit* unit = find_unit(std::string_view(digits_end, end - digits_end));
  if (unit == nullptr) return bad(text, "unit must be ms, s, m or h");
  int64_t count = 0;
  auto [ptr, ec] = std::from_chars(begin, digits_end, count);
  if (ec != std::errc() || count > kMaxMillis / unit->millis) {
    return bad(text, "longer than the limit of 8760h (365 days)");
  }
  return Millis{count * unit->millis};
}

std::string format_duration(Millis d) {
  for (const Unit& u : kUnits) {
    if (d.count() != 0 && d.count() % u.millis == 0) {
      return std::to_string(d.count() / u.millis) + std::string(u.suffix);
    }
  }
  return std::to_string(d.count()) + "ms";
}

}  // namespace sluice::topics
