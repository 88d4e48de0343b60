#!/usr/bin/env bash
# The one test command: sets up and builds (ops/setup.sh), then runs every test with
# ctest (unit, integration against a real broker, faults; not the long soak, label
# soak, unless a -L asks for it). Extra arguments go to ctest, e.g. `ops/test.sh -L
# unit`, `ops/test.sh --no-setup -R broker` or `ops/test.sh --no-setup -L soak`.
#
# Usage: ops/test.sh [--no-setup] [CTEST_ARGS...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

setup=1
labelled=0
ctest_args=()
for arg in "$@"; do
  if [[ $arg == --no-setup ]]; then
    setup=0
  else
    [[ $arg == -L* ]] && labelled=1
    ctest_args+=("$arg")
  fi
done
((labelled)) || ctest_args+=(-LE soak)

if ((setup)); then
  bash ops/setup.sh
fi
if [[ ! -f build/CTestTestfile.cmake ]]; then
  echo "test.sh: no test build in $PWD/build; run ops/setup.sh first" >&2
  exit 1
fi
exec ctest --test-dir build --output-on-failure -j2 "${ctest_args[@]}"
