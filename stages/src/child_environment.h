// The environment an exec stage's child starts with: the worker's whole
// environment (inherit_env: true, the default), or only the variables a
// program needs to run at all (kMinimalEnvironment), then the stage's `env`
// on top (values already ${VAR}-expanded by the spec reader).
#pragma once

#include <string>
#include <vector>

#include "sluice/topics/spec.h"

namespace sluice::stages {

// Kept from the worker's environment when inherit_env is false.
inline constexpr const char* kMinimalEnvironment[] = {
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"};

// "NAME=value" strings, each name once.
std::vector<std::string> child_environment(const topics::StageSpec& spec,
                                           char* const* worker_environment);

}  // namespace sluice::stages
