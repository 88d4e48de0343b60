#include <cstdio>

#include "cli_support.h"
#include "commands.h"
#include "sluice/admin.h"
#include "sluice/stages/registry.h"

namespace sluice::ops {

int validate_command(const std::string& spec_path) {
  auto spec = topics::load_spec_file(spec_path);
  if (!spec.is_ok()) return report(spec.status());
  if (Status s = stages::check_builtins(*spec); !s.is_ok()) return report(s);
  if (Status s = stages::check_exec_programs(*spec); !s.is_ok()) return report(s);
  std::printf("%s: pipeline %s is valid: %zu stages, entry stage %s, %zu topics\n",
              spec_path.c_str(), spec->pipeline.c_str(), spec->stages.size(),
              spec->entry_stage().name.c_str(), plan_topics(*spec).size());
  return kExitOk;
}

}  // namespace sluice::ops
