// The `sluice` command line, as a function so tests and users' own binaries
// (which register their own built-in stages first) can run it.
#pragma once

namespace sluice::ops {
// Parses argv, runs the subcommand, returns the exit code (0, 1 or 2).
int run_cli(int argc, char** argv);
}  // namespace sluice::ops
