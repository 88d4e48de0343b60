// The one place that parses JSON payloads (nlohmann::json): payloads of
// tasks, lines from exec children, jobs given to `sluice submit`, records
// shown by `sluice tail`. Never throws; refuses input nested deeper than
// kMaxJsonDepth, because serialising such a value again would recurse
// without bound. Pure functions, any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice::stages {

inline constexpr int kMaxJsonDepth = 256;

// The parsed value, or a kInvalidInput Status whose message says why not.
Result<nlohmann::json> parse_json(std::string_view text);

// Compact serialisation; invalid UTF-8 in strings is replaced, not thrown on.
std::string dump_json(const nlohmann::json& value);

}  // namespace sluice::stages
