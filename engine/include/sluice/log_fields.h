// The fields of a task-level log line (job, task, stage, attempt, error
// kind), for structured logs: `--log-format json` writes them as JSON fields
// of the line, so that logs join with metrics and dead letters by job id.
//
// A task-level line is logged inside a ScopedLogFields: the formatter, which
// runs on the logging thread during the call (Sluice's loggers are
// synchronous), reads them with current_log_fields(). The human format
// ignores them: its message says the same in words.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

struct LogFields {
  std::string_view stage;
  std::string_view job;
  std::string_view task;
  uint32_t attempt = 0;         // 0: not a task's line
  std::string_view error_kind;  // empty: none
};

// The fields of the line being logged on this thread; nullptr outside a
// ScopedLogFields.
const LogFields* current_log_fields();

class ScopedLogFields {
 public:
  explicit ScopedLogFields(const LogFields& fields);
  ~ScopedLogFields();
  ScopedLogFields(const ScopedLogFields&) = delete;
  ScopedLogFields& operator=(const ScopedLogFields&) = delete;

 private:
  const LogFields* previous_;
};

}  // namespace sluice
