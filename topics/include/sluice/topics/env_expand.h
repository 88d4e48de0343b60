// `${VAR}` substitution in spec values (kafka.properties, a stage's env):
// a secret stays in the environment, not in the spec file. `$$` is a
// literal `$`; any other `$` is kept as written. Pure function, any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice::topics {

// Looks a variable up; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
std::optional<std::string> process_env(const std::string& name);

// kUsage errors, without file or line (callers add them): "${NAME} is not
// set", "unterminated ${", "'${1X}': not a variable name".
Result<std::string> expand_env(std::string_view text, const EnvLookup& lookup = process_env);

// [A-Za-z_][A-Za-z0-9_]*
bool is_env_name(std::string_view name);

}  // namespace sluice::topics
