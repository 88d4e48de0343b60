#include "verify_report.h"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>

#include "verify_transactions.h"

namespace sluice::ops {
namespace {

std::string row(const char* name, int64_t value, const char* unit = "") {
  char line[128];
  std::snprintf(line, sizeof line, "%-18s %10" PRId64 "%s", name, value, unit);
  return line;
}

void add_examples(std::vector<std::string>& lines, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::string line = "  e.g.";
  for (const std::string& id : ids) line += " " + id;
  lines.push_back(line);
}

const char* guarantee(const VerifyReport& report) {
  return report.exactly_once ? "exactly_once" : "at_least_once";
}

}  // namespace

std::vector<std::string> verify_failures(const VerifyReport& report) {
  const VerifyCounts& c = report.counts;
  std::vector<std::string> failures;
  if (c.lost > 0) failures.push_back(std::to_string(c.lost) + " lost");
  if (!report.exactly_once) return failures;
  if (c.duplicated > 0) failures.push_back(std::to_string(c.duplicated) + " duplicated");
  if (size_t open = report.open_transactions.size(); open > 0) {
    failures.push_back(std::to_string(open) + (open == 1 ? " partition" : " partitions") +
                       " with a transaction left open");
  }
  return failures;
}

std::vector<std::string> verify_table(const VerifyReport& report) {
  const VerifyCounts& c = report.counts;
  std::vector<std::string> lines = {
      "pipeline " + report.pipeline + " (" + guarantee(report) + ")",
      row("submitted", c.submitted),
      row("done", c.done),
      row("dead-lettered", c.dead_lettered),
      row("lost", c.lost)};
  add_examples(lines, c.lost_examples);
  lines.push_back(row("duplicated", c.duplicated,
                      (" (" + std::to_string(c.extra_copies) + " extra copies)").c_str()));
  add_examples(lines, c.duplicated_examples);
  lines.push_back(row("unexpected", c.unexpected, " (job ids not in the file)"));
  add_examples(lines, c.unexpected_examples);
  lines.push_back(row("unreadable", c.unreadable, " (records that are not envelopes)"));
  lines.push_back(row("replayed letters", c.replayed_letters, " (sent back by dlq replay)"));
  lines.push_back(row("open transactions", static_cast<int64_t>(report.open_transactions.size()),
                      " (partitions)"));
  for (const PartitionEnd& end : report.open_transactions) {
    lines.push_back("  " + partition_name(end) + ": stable offset " +
                    std::to_string(end.stable_end) + ", high watermark " +
                    std::to_string(end.high_watermark));
  }
  std::vector<std::string> failures = verify_failures(report);
  std::string verdict = failures.empty() ? "ok" : "FAILED:";
  for (size_t i = 0; i < failures.size(); ++i) verdict += (i ? ", " : " ") + failures[i];
  lines.push_back(verdict);
  return lines;
}

std::string verify_json(const VerifyReport& report) {
  const VerifyCounts& c = report.counts;
  nlohmann::json open = nlohmann::json::array();
  for (const PartitionEnd& end : report.open_transactions) {
    open.push_back({{"topic", end.topic}, {"partition", end.partition},
                    {"stable_offset", end.stable_end}, {"high_watermark", end.high_watermark}});
  }
  std::vector<std::string> failures = verify_failures(report);
  nlohmann::json out = {
      {"pipeline", report.pipeline}, {"guarantee", guarantee(report)},
      {"ok", failures.empty()}, {"failures", failures},
      {"submitted", c.submitted}, {"done", c.done}, {"dead_lettered", c.dead_lettered},
      {"lost", c.lost}, {"duplicated", c.duplicated}, {"extra_copies", c.extra_copies},
      {"unexpected", c.unexpected}, {"unreadable", c.unreadable},
      {"records", {{"done", c.done_records}, {"dlq", c.dead_letter_records},
                   {"dlq_replayed", c.replayed_letters}}},
      {"examples", {{"lost", c.lost_examples}, {"duplicated", c.duplicated_examples},
                    {"unexpected", c.unexpected_examples}}},
      {"open_transactions", open}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sluice::ops
