// Which log level SLUICE_LOG_LEVEL asks for: a pure function, so the rule
// (unset: the command's default; not understood: info, and say so) is
// testable without touching the process's logger. cli_support applies it.
#pragma once

#include <string>

namespace sluice::ops {

struct LogLevelChoice {
  std::string level;    // trace, debug, info, warn, error, critical or off
  std::string warning;  // empty, or one line to log once the level is set
};

// `env` is SLUICE_LOG_LEVEL's value (nullptr when unset), read in any case;
// `fallback` the command's default level when it is unset.
LogLevelChoice choose_log_level(const char* env, const std::string& fallback);

struct LogFormatChoice {
  bool json = false;
  std::string warning;  // empty, or one line to log once the format is set
};

// `--log-format`'s value (empty when not given; CLI11 allows only text and
// json) wins over `env`, SLUICE_LOG_FORMAT's (nullptr when unset, any case);
// neither: text. An env value not understood means text, with a warning.
LogFormatChoice choose_log_format(const std::string& flag, const char* env);

}  // namespace sluice::ops
