#include "worker_report.h"

#include <charconv>

namespace sluice::engine {
namespace {

constexpr std::string_view kPrefix = "worker ";

std::optional<int64_t> take_number(std::string_view& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || value < 0 || end == text.data() + text.size() || *end != ' ') {
    return std::nullopt;
  }
  text.remove_prefix(static_cast<size_t>(end - text.data()) + 1);
  return value;
}

}  // namespace

std::string encode_worker_report(const WorkerReport& report) {
  return std::string(kPrefix) + std::to_string(report.at_unix_ms) + " " +
         std::to_string(report.progress_unix_ms) + " " +
         std::to_string(report.millitasks_per_second) + " " +
         (report.paused_by.empty() ? std::string("-") : report.paused_by);
}

std::optional<WorkerReport> parse_worker_report(std::string_view metadata) {
  if (!metadata.starts_with(kPrefix)) return std::nullopt;
  metadata.remove_prefix(kPrefix.size());
  WorkerReport report;
  auto at = take_number(metadata);
  if (!at) return std::nullopt;
  auto progress = take_number(metadata);
  auto rate = progress ? take_number(metadata) : std::nullopt;
  if (!rate || metadata.empty() || metadata.find(' ') != std::string_view::npos) {
    return std::nullopt;
  }
  report.at_unix_ms = *at;
  report.progress_unix_ms = *progress;
  report.millitasks_per_second = *rate;
  if (metadata != "-") report.paused_by = std::string(metadata);
  return report;
}

bool report_shows_stuck(const std::optional<WorkerReport>& report, int64_t now_unix_ms,
                        int64_t stuck_after_ms, bool group_stable) {
  if (!report) return group_stable;
  bool stale = now_unix_ms - report->at_unix_ms > kWorkerReportStale.count();
  return stale || now_unix_ms - report->progress_unix_ms > stuck_after_ms;
}

}  // namespace sluice::engine
