// Where a command's program is, found the way execvp would find it, but
// before the fork, so that a typo is one clear error (and `validate` can say
// it before anything runs).
#pragma once

#include <string>
#include <vector>

#include "sluice/status.h"

namespace sluice::stages {

// `program` with a '/' is a path (relative ones against `workdir` when it is
// set); without one it is looked up in `path_list` (PATH's syntax). Returns
// the path to execute, or a kUsage error: "program 'pyhton' is not on PATH
// (/usr/bin:/bin)", "./agent.sh (/srv/p/agent.sh): No such file or directory".
Result<std::string> find_program(const std::string& program, const std::string& workdir,
                                 const std::string& path_list);

// PATH's value in an environment of "NAME=value" strings, or the usual
// default when it has none: the program is found the way the child's own
// shell would find it.
std::string path_list_of(const std::vector<std::string>& env);

}  // namespace sluice::stages
