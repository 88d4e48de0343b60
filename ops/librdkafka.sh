#!/usr/bin/env bash
# Builds the pinned librdkafka that Sluice links against, into a cache outside the repo.
#
# Debian 12 ships librdkafka 2.0.2, whose batch consume skips offsets around pause and
# resume, among other defects this engine would hit (see README.md, "librdkafka").
# This script fetches the upstream source tarball of the pinned release once, through
# the machine's own Debian mirror (the unstable suite's source package; a private apt
# configuration, the system's sources are never changed), checks its sha256, and builds
# it with CMake into $CACHE/librdkafka-$VERSION, after applying ops/librdkafka-patches/*.patch
# in name order (fixes of upstream defects that Sluice hits, each one naming its upstream
# issue). The build then links it with an rpath. A cache built from another patch set is
# rebuilt.
#
# Usage: ops/librdkafka.sh [--tarball FILE]   build (once), print the install prefix
#        ops/librdkafka.sh --prefix            print the install prefix, build nothing
# Instead of building, point CMake at an existing librdkafka >= 2.13.2 with
# -DSLUICE_RDKAFKA_PREFIX=DIR (a prefix holding lib/pkgconfig/rdkafka.pc).
set -euo pipefail

readonly VERSION=2.14.2
readonly SHA256=4d53568c13717b167d12c7b2a0fe12aeb5d6bfe02de53df5b68f86d870a81b33
readonly TARBALL_NAME=librdkafka_$VERSION.orig.tar.gz
readonly CACHE=${SLUICE_CACHE:-${HOME:?set SLUICE_CACHE or HOME}/.cache/sluice}
readonly PREFIX=$CACHE/librdkafka-$VERSION
readonly COMPLETE=$PREFIX/complete # written last: the stamp below
readonly PATCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/librdkafka-patches
work="" # the temporary build directory, removed on exit
readonly MIRROR=${SLUICE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

die() {
  echo "librdkafka.sh: $*" >&2
  exit 1
}

# Says, in one line, how to go on when the pinned tarball cannot be had.
die_unavailable() {
  die "librdkafka $VERSION source ($TARBALL_NAME, sha256 $SHA256) is not available from" \
    "$MIRROR unstable ($1); download it and run: ops/librdkafka.sh --tarball FILE," \
    "or configure with -DSLUICE_RDKAFKA_PREFIX=DIR for an installed librdkafka >= 2.13.2"
}

# Downloads the orig tarball into $1 with apt-get, from a private sources list.
download_tarball() {
  local dir=$1 apt=$1/apt
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR unstable main" \
    >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
    -o APT::Sandbox::User=root -o Debug::NoLocking=1)
  apt-get "${opts[@]}" -qq update >"$dir/apt.log" 2>&1 || die_unavailable "apt-get update failed: $(tail -1 "$dir/apt.log")"
  (cd "$dir" && apt-get "${opts[@]}" -qq source --download-only "librdkafka=$VERSION-1" \
    >>"$dir/apt.log" 2>&1) || die_unavailable "$(tail -1 "$dir/apt.log")"
  [[ -f $dir/$TARBALL_NAME ]] || die_unavailable "the source package has no $TARBALL_NAME"
}

# What a complete cache holds: the release, its checksum and the patches' checksums.
stamp() {
  echo "$VERSION $SHA256"
  (cd "$PATCH_DIR" && sha256sum -- *.patch)
}

is_complete() {
  [[ -f $COMPLETE && $(cat "$COMPLETE") == "$(stamp)" ]]
}

apply_patches() {
  local src=$1 patch
  for patch in "$PATCH_DIR"/*.patch; do
    patch -d "$src" -p1 --forward --batch --quiet <"$patch" >"$work/patch.log" 2>&1 ||
      die "$(basename "$patch") does not apply to librdkafka $VERSION: $(head -1 "$work/patch.log")"
  done
}

main() {
  local tarball=""
  while (($#)); do
    case $1 in
      --prefix)
        echo "$PREFIX"
        return 0
        ;;
      --tarball)
        tarball=$(realpath "${2:?--tarball needs a file}")
        shift
        ;;
      -h | --help)
        sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        return 0
        ;;
      *)
        echo "librdkafka.sh: unknown argument '$1' (see --help)" >&2
        exit 2
        ;;
    esac
    shift
  done
  if is_complete; then
    echo "$PREFIX"
    return 0
  fi
  mkdir -p "$CACHE"
  exec 9>"$PREFIX.lock"
  flock 9
  if is_complete; then
    echo "$PREFIX"
    return 0
  fi

  work=$(mktemp -d "$CACHE/librdkafka-build.XXXXXX")
  trap '[[ -z $work ]] || rm -rf "$work"' EXIT
  if [[ -z $tarball ]]; then
    echo "librdkafka.sh: fetching librdkafka $VERSION source from $MIRROR (unstable)" >&2
    download_tarball "$work"
    tarball=$work/$TARBALL_NAME
  fi
  local actual
  actual=$(sha256sum "$tarball" | cut -d' ' -f1)
  [[ $actual == "$SHA256" ]] ||
    die "$tarball has sha256 $actual, expected $SHA256 (librdkafka $VERSION); refusing to build it"

  echo "librdkafka.sh: building librdkafka $VERSION into $PREFIX" >&2
  mkdir "$work/src"
  tar -xzf "$tarball" -C "$work/src"
  local src
  src=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d | head -1)
  [[ -n $src ]] || die "$tarball holds no librdkafka source directory"
  apply_patches "$src"
  rm -rf "$PREFIX"
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
    -DRDKAFKA_BUILD_EXAMPLES=OFF -DRDKAFKA_BUILD_TESTS=OFF -DRDKAFKA_BUILD_STATIC=OFF \
    -DWITH_SSL=ON -DWITH_ZLIB=ON -DWITH_ZSTD=ON -DWITH_SASL=ON -DWITH_CURL=OFF \
    >"$work/cmake.log" 2>&1 || die "configure failed; see the log: $(tail -3 "$work/cmake.log")"
  cmake --build "$work/build" >"$work/build.log" 2>&1 ||
    die "build failed: $(grep -m1 -i error "$work/build.log")"
  cmake --install "$work/build" >/dev/null
  stamp >"$COMPLETE"
  echo "$PREFIX"
}

main "$@"
