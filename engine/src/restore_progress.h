// How far a changelog partition's restore is, told through the broker so
// that `sluice status` sees it without asking any worker: the worker's
// restorer commits its position in the changelog partition to the group
// sluice.<p>.<stage>.restore (never joined; only these commits), with
// metadata "restoring <end offset> <unix ms>" while it runs (refreshed every
// kRestoreReportInterval) and "restored <unix ms>" once done. A restoring
// mark older than kRestoreMarkStale is a worker that died mid-restore: not
// counted (the next owner starts over and marks it again).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::engine {

inline constexpr std::chrono::milliseconds kRestoreReportInterval{1000};
inline constexpr std::chrono::milliseconds kRestoreMarkStale{30000};

std::string restoring_metadata(int64_t end, int64_t now_unix_ms);
std::string restored_metadata(int64_t now_unix_ms);

struct RestoreMark {
  bool restoring = false;
  int64_t end = 0;  // restoring: the offset it restores up to
  int64_t at_unix_ms = 0;
};

// nullopt for metadata these did not write.
std::optional<RestoreMark> parse_restore_metadata(std::string_view metadata);

// Records still to restore of a partition whose committed position is
// `position` and whose mark is `mark`, at `now_unix_ms`; 0 when it is not
// restoring (or the mark is stale).
int64_t records_left(const RestoreMark& mark, int64_t position, int64_t now_unix_ms);

}  // namespace sluice::engine
