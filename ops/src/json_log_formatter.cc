#include "json_log_formatter.h"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "sluice/log_fields.h"

namespace sluice::ops {
namespace {

// RFC 3339 in UTC with milliseconds: 2026-12-03T15:04:05.123Z.
std::string utc_time(spdlog::log_clock::time_point at) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
  std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
  return text;
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  nlohmann::ordered_json line;
  line["time"] = utc_time(msg.time);
  spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
  line["level"] = std::string(level.data(), level.size());
  line["message"] = std::string(msg.payload.data(), msg.payload.size());
  if (const LogFields* fields = current_log_fields()) {
    if (!fields->stage.empty()) line["stage"] = fields->stage;
    if (!fields->job.empty()) line["job"] = fields->job;
    if (!fields->task.empty()) line["task"] = fields->task;
    if (fields->attempt > 0) line["attempt"] = fields->attempt;
    if (!fields->error_kind.empty()) line["error_kind"] = fields->error_kind;
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  dest.append(text.data(), text.data() + text.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace sluice::ops
