// JsonLogFormatter: spdlog's formatter for `--log-format json`: one JSON
// object a line, {"time", "level", "message"} plus, on a task's line, the
// fields of sluice/log_fields.h ("stage", "job", "task", "attempt",
// "error_kind"), so that a log pipeline can join lines with metrics and
// dead letters by job id. Bytes that are not UTF-8 are replaced (U+FFFD):
// a line is always valid JSON.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace sluice::ops {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace sluice::ops
