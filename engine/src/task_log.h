// log_task(): spdlog's log() for a line about one task, with its fields
// attached for structured logs (sluice/log_fields.h).
#pragma once

#include <spdlog/spdlog.h>

#include <utility>

#include "sluice/log_fields.h"

namespace sluice::engine {

template <typename... Args>
void log_task(spdlog::level::level_enum level, const LogFields& fields,
              spdlog::format_string_t<Args...> format, Args&&... args) {
  if (!spdlog::should_log(level)) return;
  ScopedLogFields scope(fields);
  spdlog::log(level, format, std::forward<Args>(args)...);
}

}  // namespace sluice::engine
