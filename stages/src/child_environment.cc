#include "child_environment.h"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace sluice::stages {

std::vector<std::string> child_environment(const topics::StageSpec& spec,
                                           char* const* worker_environment) {
  auto minimal = [](std::string_view name) {
    return std::find(std::begin(kMinimalEnvironment), std::end(kMinimalEnvironment), name) !=
           std::end(kMinimalEnvironment);
  };
  std::vector<std::string> env;
  for (char* const* e = worker_environment; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (spec.env.count(std::string(name)) != 0) continue;  // the stage's value wins
    if (spec.inherit_env || minimal(name)) env.emplace_back(entry);
  }
  for (const auto& [name, value] : spec.env) env.push_back(name + "=" + value);
  return env;
}

}  // namespace sluice::stages
