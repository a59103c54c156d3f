#!/bin/sh
# run.sh - install the build into a scratch prefix and use it as a user would.
#
# Usage: run.sh <build-dir> <work-dir> <cc> <cmake> [<extra C and link flags>]
# Builds tests/consumer/main.c against the installed package three ways
# (find_package -> vitals::vitals and vitals::vitals_static; cc with
# pkg-config) and runs each binary; checks that the package refuses a missing
# component and a too-new version. Everything happens under <work-dir>, which is
# emptied first. Exit 0 pass, 1 fail, 77 skip (a missing tool, outside CI).
#
# SPDX-License-Identifier: MIT
set -eu

build=$1
work=$2
cc=$3
cmake=$4
flags=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
expected='consumer_requests_total{method="GET"} 3'

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    if [ -n "${CI:-}" ]; then
        fail "prerequisite missing under CI: $*"
    fi
    echo "SKIP: $*"
    exit 77
}

# Runs a consumer binary and checks that it printed the sample.
check_run() {
    name=$1
    shift
    echo "== run $name"
    "$@" >"$work/$name.out" || {
        cat "$work/$name.out"
        fail "$name exited with $?"
    }
    cat "$work/$name.out"
    grep -qF "$expected" "$work/$name.out" || fail "$name did not print: $expected"
}

command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed"

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

echo "== install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" || {
    cat "$work/install.log"
    fail "cmake --install"
}

pc=$(find "$prefix" -name vitals.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "vitals.pc was not installed"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
for f in "$prefix/include/vitals.h" "$prefix/include/vitals/version.h" \
    "$libdir/libvitals.a" "$libdir/cmake/vitals/vitals-config.cmake" \
    "$libdir/cmake/vitals/vitals-config-version.cmake" \
    "$libdir/cmake/vitals/vitals-targets.cmake"; do
    [ -f "$f" ] || fail "not installed: $f"
done
ls "$libdir"/libvitals.so* >/dev/null 2>&1 || fail "libvitals.so was not installed"

echo "== find_package(vitals)"
cbuild=$work/cmake-build
"$cmake" -S "$here" -B "$cbuild" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$work/configure.log" 2>&1 || {
    cat "$work/configure.log"
    fail "configuring the consumer project"
}
grep -q "consumer: vitals .* from $libdir/cmake/vitals" "$work/configure.log" || {
    cat "$work/configure.log"
    fail "find_package(vitals) did not find the scratch install"
}
"$cmake" --build "$cbuild" >"$work/build.log" 2>&1 || {
    cat "$work/build.log"
    fail "building the consumer project"
}

check_run consumer_shared env LD_LIBRARY_PATH="$libdir" "$cbuild/consumer_shared"
LD_LIBRARY_PATH="$libdir" ldd "$cbuild/consumer_shared" | grep -q "libvitals\.so.* => $libdir/" ||
    fail "consumer_shared does not load $libdir/libvitals.so"

check_run consumer_static "$cbuild/consumer_static"
if ldd "$cbuild/consumer_static" | grep -q libvitals; then
    fail "consumer_static depends on a shared libvitals"
fi

echo "== pkg-config"
PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
pkg-config --exists vitals || fail "pkg-config cannot find vitals in $pcdir"
pc_libdir=$(pkg-config --variable=libdir vitals)
[ "$(cd "$pc_libdir" && pwd)" = "$(cd "$libdir" && pwd)" ] ||
    fail "vitals.pc libdir is $pc_libdir, expected $libdir"
pc_static=$(pkg-config --static --libs vitals)
case "$pc_static" in
*-lpthread*-lm* | *-lm*-lpthread*) ;;
*) fail "pkg-config --static --libs vitals lacks -lpthread -lm: $pc_static" ;;
esac
# shellcheck disable=SC2046,SC2086 # flags are word lists
"$cc" $flags -o "$work/consumer_pc" "$here/main.c" $(pkg-config --cflags --libs vitals) ||
    fail "cc with pkg-config"
check_run consumer_pc env LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"

echo "== every installed header compiles on its own, as C11 and as C++11"
cxx=${CXX:-c++}
command -v "$cxx" >/dev/null 2>&1 || cxx=""
for h in "$prefix/include/vitals.h" "$prefix/include"/vitals/*.h; do
    rel=${h#"$prefix/include/"}
    printf '#include <%s>\n' "$rel" |
        "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$prefix/include" -x c - ||
        fail "$rel does not compile on its own as C11"
    if [ -n "$cxx" ]; then
        printf '#include <%s>\n' "$rel" |
            "$cxx" -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only \
                -I"$prefix/include" -x c++ - ||
            fail "$rel does not compile on its own as C++11"
    fi
done

echo "== find_package(vitals COMPONENTS <comp>) for every installed component"
for t in "$libdir"/cmake/vitals/vitals-*-targets.cmake; do
    [ -f "$t" ] || continue
    comp=$(basename "$t" -targets.cmake)
    comp=${comp#vitals-}
    "$cmake" -S "$here" -B "$work/component-$comp" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$cc" -DVT_CONSUMER_COMPONENTS="$comp" \
        >"$work/component-$comp.log" 2>&1 || {
        cat "$work/component-$comp.log"
        fail "find_package(vitals REQUIRED COMPONENTS $comp) failed"
    }
    echo "component $comp: found"
done

echo "== the package refuses what it cannot give"
if "$cmake" -S "$here" -B "$work/bad-component" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DVT_CONSUMER_COMPONENTS=no_such_part >"$work/bad-component.log" 2>&1; then
    fail "find_package(vitals REQUIRED COMPONENTS no_such_part) succeeded"
fi
grep -q "no_such_part" "$work/bad-component.log" || {
    cat "$work/bad-component.log"
    fail "the missing component is not named in the error"
}
if "$cmake" -S "$here" -B "$work/bad-version" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DVT_CONSUMER_VERSION=99.0 >"$work/bad-version.log" 2>&1; then
    fail "find_package(vitals 99.0) succeeded"
fi
"$cmake" -S "$here" -B "$work/core-component" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DVT_CONSUMER_COMPONENTS=core >"$work/core-component.log" 2>&1 || {
    cat "$work/core-component.log"
    fail "find_package(vitals REQUIRED COMPONENTS core) failed"
}

echo "consumer: all checks passed"
