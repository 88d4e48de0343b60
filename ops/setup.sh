#!/usr/bin/env bash
# Sets up a Debian 12 machine for Sluice and builds it: installs the Debian packages
# that are missing (apt is skipped when all are present, so re-runs are fast), builds
# the pinned librdkafka into a cache (ops/librdkafka.sh), caches the Kafka broker's
# jars (ops/kafka), then configures and builds build/.
#
# Usage: ops/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev
  librocksdb-dev libprotobuf-dev protobuf-compiler prometheus-cpp-dev
  libgtest-dev libgmock-dev libyaml-cpp-dev libcli11-dev libspdlog-dev nlohmann-json3-dev
  libcurl4-openssl-dev libcivetweb-dev
  python3 prometheus tmux docker-compose
)

die() {
  echo "setup.sh: $*" >&2
  exit 1
}

installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# Prints the Debian packages still to install, one per line.
missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    installed "$p" || echo "$p"
  done
  # A JRE and Maven only where none is on PATH (the broker's jars need both).
  command -v java >/dev/null || echo default-jre-headless
  command -v mvn >/dev/null || echo maven
  python3 -m pytest --version >/dev/null 2>&1 || echo python3-pytest
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install by hand: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "not root and no sudo: install as root: ${missing[*]}"
    sudo=(sudo)
  fi
  echo "setup.sh: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
}

main() {
  local build=1
  while (($#)); do
    case $1 in
      --no-build) build=0 ;;
      -h | --help)
        echo "usage: ops/setup.sh [--no-build]"
        return 0
        ;;
      *)
        echo "setup.sh: unknown argument '$1' (usage: ops/setup.sh [--no-build])" >&2
        exit 2
        ;;
    esac
    shift
  done

  install_packages
  # The integration tests run `python3 -m pytest` with the python3 on PATH, which may
  # not be Debian's (pyenv, venv).
  if ! python3 -m pytest --version >/dev/null 2>&1; then
    echo "setup.sh: $(command -v python3) has no pytest; installing it from PyPI" >&2
    python3 -m pip install --quiet pytest ||
      die "$(command -v python3) has no pytest and pip could not install it"
  fi
  local rdkafka
  rdkafka=$(bash ops/librdkafka.sh)
  bash ops/kafka/kafka.sh fetch
  bash ops/kafka/kafka.sh fetch --version 4.1.1 # the kafka4 tests (tests/integration)

  if ((build)); then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSLUICE_RDKAFKA_PREFIX="$rdkafka"
    cmake --build build
  fi
}

main "$@"
