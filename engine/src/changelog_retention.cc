#include "changelog_retention.h"

#include <sstream>
#include <vector>

namespace sluice::engine {
namespace {

std::vector<std::string> policies(const std::string& value) {
  std::vector<std::string> out;
  std::stringstream in(value);
  for (std::string item; std::getline(in, item, ',');) {
    size_t begin = item.find_first_not_of(' '), end = item.find_last_not_of(' ');
    if (begin != std::string::npos) out.push_back(item.substr(begin, end - begin + 1));
  }
  return out;
}

bool has(const std::vector<std::string>& items, const std::string& item) {
  for (const std::string& i : items) {
    if (i == item) return true;
  }
  return false;
}

std::string value_of(const std::map<std::string, std::string>& config, const std::string& name) {
  auto it = config.find(name);
  return it == config.end() ? "" : it->second;
}

}  // namespace

RetentionVerdict check_changelog_retention(const std::string& topic,
                                           const std::map<std::string, std::string>& config) {
  std::string fix = "kafka-configs.sh --alter --entity-type topics --entity-name " + topic +
                    " --add-config cleanup.policy=compact";
  auto policy = config.find("cleanup.policy");
  if (policy == config.end()) {
    return {Status::ok(), "topic " + topic +
                              " reports no cleanup.policy: cannot tell whether it keeps every "
                              "key's latest state; it must be compact"};
  }
  std::vector<std::string> items = policies(policy->second);
  if (!has(items, "compact")) {
    return {usage_error("topic " + topic + " has cleanup.policy=" + policy->second +
                        ": the broker deletes old state changes, and a restore from it would "
                        "lose state; a changelog must be compacted (" + fix + ")"),
            ""};
  }
  std::string retention = value_of(config, "retention.ms");
  if (has(items, "delete") && retention != "-1") {
    return {Status::ok(), "topic " + topic + " has cleanup.policy=" + policy->second +
                              " with retention.ms=" + retention +
                              ": the state of a key not written for that long is deleted and "
                              "a restore loses it; use compact alone (" + fix + ")"};
  }
  return {};
}

}  // namespace sluice::engine
