#include "log_level.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

namespace sluice::ops {
namespace {

// Spellings accepted -> the level; "warning" and "err" as spdlog spells them.
constexpr std::pair<std::string_view, std::string_view> kLevels[] = {
    {"trace", "trace"}, {"debug", "debug"},     {"info", "info"},        {"warn", "warn"},
    {"warning", "warn"}, {"error", "error"},    {"err", "error"},        {"critical", "critical"},
    {"off", "off"},
};

// A value nobody meant: the documented default of the CLI, not a quieter one.
constexpr std::string_view kNotUnderstood = "info";

}  // namespace

LogLevelChoice choose_log_level(const char* env, const std::string& fallback) {
  if (env == nullptr) return {fallback, ""};
  std::string name(env);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto [spelling, level] : kLevels) {
    if (name == spelling) return {std::string(level), ""};
  }
  return {std::string(kNotUnderstood),
          "SLUICE_LOG_LEVEL=" + std::string(env) +
              " is not a level (trace, debug, info, warn, error, critical, off); using " +
              std::string(kNotUnderstood)};
}

LogFormatChoice choose_log_format(const std::string& flag, const char* env) {
  if (!flag.empty()) return {flag == "json", ""};
  if (env == nullptr) return {};
  std::string name(env);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "json" || name == "text") return {name == "json", ""};
  return {false, "SLUICE_LOG_FORMAT=" + std::string(env) +
                     " is not a log format (text, json); using text"};
}

}  // namespace sluice::ops
