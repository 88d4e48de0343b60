// The bearer token `sluice serve` may require of its clients.
#pragma once

#include <optional>
#include <string>

#include "sluice/status.h"

namespace sluice::ops {

// From `file` (its content, trailing whitespace dropped) when given, else
// from the environment variable `env_name`; nullopt when neither is set
// (no token required). kUsage naming the file or variable when it cannot
// be read or is empty.
Result<std::optional<std::string>> load_bearer_token(const std::optional<std::string>& file,
                                                     const char* env_name);

// Whether `authorization` (the header's value, or null) is "Bearer TOKEN".
// Compares in time that depends only on the lengths, never on where the
// texts differ.
bool bearer_matches(const std::string* authorization, const std::string& token);

}  // namespace sluice::ops
