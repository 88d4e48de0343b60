#include "restore_progress.h"

#include <algorithm>
#include <charconv>

namespace sluice::engine {
namespace {

constexpr std::string_view kRestoring = "restoring ";
constexpr std::string_view kRestored = "restored ";

// The decimal number at the start of `text`, and what follows it.
std::optional<int64_t> take_number(std::string_view& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || value < 0) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return value;
}

}  // namespace

std::string restoring_metadata(int64_t end, int64_t now_unix_ms) {
  return std::string(kRestoring) + std::to_string(end) + " " + std::to_string(now_unix_ms);
}

std::string restored_metadata(int64_t now_unix_ms) {
  return std::string(kRestored) + std::to_string(now_unix_ms);
}

std::optional<RestoreMark> parse_restore_metadata(std::string_view metadata) {
  RestoreMark mark;
  if (metadata.starts_with(kRestoring)) {
    metadata.remove_prefix(kRestoring.size());
    auto end = take_number(metadata);
    if (!end || !metadata.starts_with(' ')) return std::nullopt;
    metadata.remove_prefix(1);
    mark.restoring = true;
    mark.end = *end;
  } else if (metadata.starts_with(kRestored)) {
    metadata.remove_prefix(kRestored.size());
  } else {
    return std::nullopt;
  }
  auto at = take_number(metadata);
  if (!at || !metadata.empty()) return std::nullopt;
  mark.at_unix_ms = *at;
  return mark;
}

int64_t records_left(const RestoreMark& mark, int64_t position, int64_t now_unix_ms) {
  if (!mark.restoring || now_unix_ms - mark.at_unix_ms > kRestoreMarkStale.count()) return 0;
  return std::max<int64_t>(mark.end - std::max<int64_t>(position, 0), 0);
}

}  // namespace sluice::engine
