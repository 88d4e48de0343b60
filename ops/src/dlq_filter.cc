#include "dlq_filter.h"

#include <cctype>

#include "sluice/topics/rfc3339.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {
namespace {

// "/RE/" is a regex (ECMAScript, as std::regex reads it); anything else a substring.
Status compile_error_filter(const std::string& text, DlqFilter* filter) {
  if (text.size() < 2 || text.front() != '/' || text.back() != '/') {
    filter->error = text;
    return Status::ok();
  }
  try {
    filter->error_regex.emplace(text.substr(1, text.size() - 2), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return usage_error("--error: " + text + " is not a valid regular expression: " + e.what());
  }
  return Status::ok();
}

Status read_bound(const std::string& flag, const std::string& text, int64_t now_unix_ms,
                  std::optional<int64_t>* bound) {
  if (text.empty()) return Status::ok();
  auto parsed = parse_time_bound(flag, text, now_unix_ms);
  if (!parsed.is_ok()) return parsed.status();
  *bound = *parsed;
  return Status::ok();
}

}  // namespace

Result<int64_t> parse_time_bound(const std::string& flag, const std::string& text,
                                 int64_t now_unix_ms) {
  // A duration starts with a digit and has no '-' or ':'; a time has both.
  bool duration = text.find_first_of("-:") == std::string::npos;
  if (duration) {
    auto back = topics::parse_duration(text);
    if (back.is_ok()) return now_unix_ms - back->count();
    return usage_error(flag + " '" + text + "': expected a duration back from now (10m, 2h) " +
                       "or an RFC 3339 time (2026-12-01T18:00:00Z)");
  }
  auto time = topics::parse_rfc3339(text);
  if (!time.is_ok()) return usage_error(flag + ": " + time.status().message());
  return *time;
}

Result<DlqFilter> make_filter(const DlqSelection& selection, int64_t now_unix_ms) {
  if (selection.max < 0) return usage_error("--max: must be 0 (no limit) or more");
  DlqFilter filter;
  filter.job = selection.job;
  filter.kind = selection.kind;
  filter.not_replayed = selection.not_replayed;
  if (Status s = compile_error_filter(selection.error, &filter); !s.is_ok()) return s;
  if (Status s = read_bound("--since", selection.since, now_unix_ms, &filter.since_unix_ms);
      !s.is_ok()) {
    return s;
  }
  if (Status s = read_bound("--until", selection.until, now_unix_ms, &filter.until_unix_ms);
      !s.is_ok()) {
    return s;
  }
  return filter;
}

bool DlqFilter::matches(const DeadLetter& letter) const {
  if (!job.empty() && letter.envelope.job_id() != job) return false;
  if (not_replayed && letter.replayed) return false;
  int64_t time = letter_time_unix_ms(letter);
  if (since_unix_ms && time < *since_unix_ms) return false;
  if (until_unix_ms && time > *until_unix_ms) return false;
  bool by_error = !kind.empty() || !error.empty() || error_regex;
  if (!by_error) return true;
  const v1::ErrorRecord* last = last_error(letter);
  if (last == nullptr) return false;
  if (!kind.empty() && last->kind() != kind) return false;
  if (!error.empty() && last->message().find(error) == std::string::npos) return false;
  if (!error_regex) return true;
  try {
    return std::regex_search(last->message(), *error_regex);
  } catch (const std::regex_error&) {
    return false;  // too complex to match on this message (libstdc++ recurses per character)
  }
}

}  // namespace sluice::ops
