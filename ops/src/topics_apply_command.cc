#include <cstdio>

#include "cli_support.h"
#include "commands.h"
#include "sluice/admin.h"

namespace sluice::ops {

// Creates what is missing; reports, never changes, what differs: exit 1 then,
// since the spec does not describe the broker any more.
int topics_apply_command(const std::string& spec_path) {
  auto spec = topics::load_spec_file(spec_path);
  if (!spec.is_ok()) return report(spec.status());
  if (spec->kafka.embedded()) {
    return report(usage_error(spec_path +
                              ": brokers is embedded: its topics are created by `sluice run`"
                              " and `sluice demo` in their own process"));
  }
  auto applied = apply_topics(*spec, KafkaOptions::from_spec(spec->kafka));
  if (!applied.is_ok()) return report(applied.status());
  for (const std::string& topic : applied->created) std::printf("created    %s\n", topic.c_str());
  for (const std::string& topic : applied->unchanged) std::printf("exists     %s\n", topic.c_str());
  for (const std::string& diff : applied->differences) std::printf("differs    %s\n", diff.c_str());
  std::printf("%zu created, %zu already there, %zu differ from the spec (left as they are)\n",
              applied->created.size(), applied->unchanged.size(), applied->differing.size());
  if (applied->differing.empty()) return kExitOk;
  size_t n = applied->differing.size();
  return report(fatal_error(std::to_string(n) + (n == 1 ? " topic differs" : " topics differ") +
                            " from the spec; topics apply never changes an existing topic"));
}

}  // namespace sluice::ops
