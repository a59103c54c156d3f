#!/bin/sh
# check_uninstall.sh - `make uninstall` removes exactly what the install wrote.
#
# Installs this build into a scratch prefix (cmake --install, as
# `make install` does after its build), puts two foreign files beside it,
# then runs the Makefile's `uninstall` target on that install manifest: every
# installed file and the vitals-only folders must be gone, the foreign files
# must stay. A second uninstall has nothing left to do; without a manifest it
# must refuse. `make -n install` must pass PREFIX to cmake --install.
#
# Usage: check_uninstall.sh BUILD_DIR SOURCE_DIR CMAKE WORK_DIR
#
# SPDX-License-Identifier: MIT
set -u
build=$1
src=$2
cmake=$3
work=$4
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

rm -rf "$work"
mkdir -p "$work/bd/release"
prefix=$work/prefix
if ! "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1; then
    cat "$work/install.log"
    echo "FAIL: cmake --install"
    exit 1
fi
# The manifest `make uninstall` reads: $(BUILD_DIR)/release/install_manifest.txt.
manifest=$work/bd/release/install_manifest.txt
cp "$build/install_manifest.txt" "$manifest"
count=$(grep -c . "$manifest")
[ "$count" -gt 5 ] && ok || bad "the manifest lists only $count files"
outside=$(grep -v "^$prefix/" "$manifest" | head -n 1)
[ -z "$outside" ] && ok || bad "installed outside the prefix: $outside"

pc=$(grep '/pkgconfig/vitals.pc$' "$manifest")
libdir=$(dirname "$(dirname "$pc")")
[ -f "$pc" ] && ok || bad "vitals.pc is not installed"
touch "$prefix/include/other.h" "$libdir/pkgconfig/other.pc"

if make -C "$src" --no-print-directory uninstall BUILD_DIR="$work/bd" \
    >"$work/uninstall.log" 2>&1; then
    ok
else
    bad "make uninstall failed: $(cat "$work/uninstall.log")"
fi
left=0
while IFS= read -r f; do
    if [ -e "$f" ] || [ -L "$f" ]; then
        left=$((left + 1))
        [ "$left" -le 3 ] && echo "    left behind: $f"
    fi
done <"$manifest"
[ "$left" -eq 0 ] && ok || bad "$left installed files are still there"
for d in "$prefix/include/vitals" "$libdir/cmake/vitals"; do
    [ ! -e "$d" ] && ok || bad "$d is still there"
done
[ -f "$prefix/include/other.h" ] && [ -f "$libdir/pkgconfig/other.pc" ] && ok ||
    bad "uninstall removed files it did not install"

make -C "$src" --no-print-directory uninstall BUILD_DIR="$work/bd" >"$work/again.log" 2>&1 &&
    ok || bad "a second uninstall failed: $(cat "$work/again.log")"
if make -C "$src" --no-print-directory uninstall BUILD_DIR="$work/none" >"$work/none.log" 2>&1; then
    bad "uninstall without a manifest succeeded"
else
    grep -q "nothing installed" "$work/none.log" && ok || bad "no message: $(cat "$work/none.log")"
fi

make -C "$src" --no-print-directory -n install PREFIX=/opt/vt-prefix BUILD_DIR="$work/bd" \
    >"$work/install-n.log" 2>&1
grep -q -- "--install $work/bd/release --prefix '/opt/vt-prefix'" "$work/install-n.log" && ok ||
    bad "make install does not pass PREFIX: $(cat "$work/install-n.log")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
