#include "dlq_print.h"

#include <cstdio>
#include <map>

#include "record_json.h"
#include "sluice/topics/rfc3339.h"
#include "sluice/topics/utf8.h"

namespace sluice::ops {
namespace {

// Column widths in bytes; a job id is 32 hex digits.
constexpr size_t kKeyWidth = 16;
constexpr size_t kErrorWidth = 56;
constexpr const char* kRowFormat = "%-32s  %-16s  %8s  %-56s  %-20s  %s";

std::string formatted(const std::string& job, const std::string& key, const std::string& attempts,
                      const std::string& error, const std::string& when,
                      const std::string& replayed) {
  char line[512];
  std::snprintf(line, sizeof line, kRowFormat, job.c_str(), key.c_str(), attempts.c_str(),
                error.c_str(), when.c_str(), replayed.c_str());
  return line;
}

// The table's WHEN: to the second, which is what a reader compares.
std::string whole_seconds(int64_t unix_ms) {
  return topics::format_rfc3339(unix_ms - ((unix_ms % 1000) + 1000) % 1000);
}

nlohmann::json errors_json(const v1::Envelope& envelope) {
  nlohmann::json errors = nlohmann::json::array();
  for (const v1::ErrorRecord& e : envelope.errors()) {
    errors.push_back({{"stage", e.stage()}, {"attempt", e.attempt()}, {"kind", e.kind()},
                      {"message", e.message()}, {"time_unix_ms", e.time_unix_ms()}});
  }
  return errors;
}

}  // namespace

std::string letter_table_header() {
  return formatted("JOB", "KEY", "ATTEMPTS", "LAST ERROR", "WHEN", "REPLAYED");
}

std::string letter_table_row(const DeadLetter& letter) {
  const v1::ErrorRecord* last = last_error(letter);
  std::string error = last ? last->kind() + ": " + last->message() : "-";
  for (char& c : error) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';  // one row a letter
  }
  return formatted(topics::utf8_excerpt(letter.envelope.job_id(), 32),
                   topics::utf8_excerpt(letter_key(letter), kKeyWidth),
                   std::to_string(letter_attempts(letter)),
                   topics::utf8_excerpt(error, kErrorWidth),
                   whole_seconds(letter_time_unix_ms(letter)), letter.replayed ? "yes" : "no");
}

std::string letter_json_line(const DeadLetter& letter) {
  const v1::Envelope& e = letter.envelope;
  nlohmann::json line = {
      {"job", e.job_id()},
      {"task", e.task_id()},
      {"key", letter_key(letter)},
      {"attempts", letter_attempts(letter)},
      {"errors", errors_json(e)},
      {"origin",
       {{"topic", e.origin().topic()},
        {"partition", e.origin().partition()},
        {"offset", e.origin().offset()}}},
      {"dlq", {{"partition", letter.partition}, {"offset", letter.offset}}},
      {"time", topics::format_rfc3339(letter_time_unix_ms(letter))},
      {"headers", nlohmann::json(std::map<std::string, std::string>(e.headers().begin(),
                                                                    e.headers().end()))},
      {"replayed", letter.replayed},
      {"content_type", e.content_type()}};
  return json_line_with_payload(std::move(line), e.content_type(), e.payload());
}

}  // namespace sluice::ops
