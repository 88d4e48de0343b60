// "Did you mean ...?" hints for misspelt names: spec fields, stages, builtins,
// CLI commands. A pure function; call from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace sluice::topics {

// " (did you mean 'x'?)" for the closest candidate within a small edit
// distance of `word`, else "". Ready to append to an error message.
std::string did_you_mean(std::string_view word,
                         std::span<const std::string_view> candidates);

}  // namespace sluice::topics
