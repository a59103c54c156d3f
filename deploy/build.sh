#!/bin/sh
# build.sh - build the demo's programs (reservations, loadgen, vitals) and the
# shared libraries they load into one relocatable tree: DEST/bin and DEST/lib.
#
# The build stage of deploy/Dockerfile runs this script, and so does the
# deploy test (tests/deploy) on the CI machine, so the image's build steps are
# tested without a Docker engine. Programs carry RUNPATH $ORIGIN/../lib, so
# the tree works wherever it is copied: no LD_LIBRARY_PATH, no ldconfig.
# The build tree is kept, so a second run only rebuilds what changed.
#
# Usage: deploy/build.sh SOURCE_DIR DEST_DIR [BUILD_DIR]
#   BUILD_DIR defaults to DEST_DIR.build; JOBS (default 2) sets the parallelism.
#
# SPDX-License-Identifier: MIT
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 SOURCE_DIR DEST_DIR [BUILD_DIR]" >&2
    exit 2
fi
src=$1
dest=$2
build=${3:-$2.build}
jobs=${JOBS:-2}
programs="reservations loadgen vitals"

if [ ! -f "$src/CMakeLists.txt" ] || [ ! -f "$src/include/vitals/version.h" ]; then
    echo "build.sh: $src is not the vitals source tree" >&2
    exit 2
fi

# Release build of the libraries and examples only; no tests or benchmarks.
# Warnings do not fail an image build (VITALS_WERROR=OFF): CI builds with
# -Werror elsewhere. The optional protobuf parts stay off, so the image holds
# the same programs whatever the build machine has installed (the demo is
# scraped in text or OpenMetrics).
cmake -S "$src" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DVITALS_BUILD_TESTS=OFF -DVITALS_BUILD_BENCH=OFF -DVITALS_BUILD_EXAMPLES=ON \
    -DVITALS_WERROR=OFF -DVITALS_SANITIZE= \
    -DVITALS_WITH_PROTO=OFF -DVITALS_REMOTE_WRITE=OFF \
    -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON '-DCMAKE_INSTALL_RPATH=$ORIGIN/../lib' >/dev/null
cmake --build "$build" -j "$jobs" --target reservations loadgen vitals_cli

mkdir -p "$dest/bin" "$dest/lib"
for p in reservations loadgen; do
    cp "$build/examples/$p/$p" "$dest/bin/$p"
done
cp "$build/src/cli/vitals" "$dest/bin/vitals"

# The project's own shared libraries the programs need, each under its soname
# (the name the dynamic loader looks for), found by following DT_NEEDED.
needed() {
    LC_ALL=C readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(libvitals[^]]*\)\].*/\1/p'
}
todo=""
for p in $programs; do
    todo="$todo $(needed "$dest/bin/$p")"
done
while [ -n "$(echo $todo)" ]; do
    set -- $todo
    lib=$1
    shift
    todo="$*"
    [ -e "$dest/lib/$lib" ] && continue
    found=$(find "$build/src" -name "$lib" \( -type f -o -type l \) | head -n 1)
    if [ -z "$found" ]; then
        echo "build.sh: $lib (needed by the programs) is not in $build/src" >&2
        exit 1
    fi
    cp -L "$found" "$dest/lib/$lib"
    todo="$todo $(needed "$dest/lib/$lib")"
done

# Each program must start from the copied tree.
for p in $programs; do
    if ! "$dest/bin/$p" --help >/dev/null; then
        echo "build.sh: $dest/bin/$p --help failed" >&2
        exit 1
    fi
done
echo "build.sh: $(ls "$dest/bin" | tr '\n' ' ')and $(ls "$dest/lib" | tr '\n' ' ')in $dest"
