#!/bin/sh
# check-exports.sh - the shared core library exports exactly its public API.
#
# Usage: check-exports.sh <libvitals.so> <include/vitals.h>
# Every dynamic symbol the library defines must be a vt_ name, and every
# function that a header included by vitals.h declares VT_EXTERN must be
# defined in the library. Exit 0 pass, 1 fail, 77 skip (no nm, outside CI).
#
# SPDX-License-Identifier: MIT
set -eu

lib=$1
umbrella=$2
incdir=$(dirname "$umbrella")

if ! command -v nm >/dev/null 2>&1; then
    if [ -n "${CI:-}" ]; then
        echo "FAIL: nm is not installed" >&2
        exit 1
    fi
    echo "SKIP: nm is not installed"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols; version nodes (type A) are not code.
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u \
    >"$tmp/exported"

# Functions declared in the headers the umbrella header includes.
headers=$(sed -n 's/^#include "\(vitals\/[a-z_0-9]*\.h\)".*/\1/p' "$umbrella")
: >"$tmp/declared.raw"
for h in $headers; do
    # One declaration per line; the name is the last word before "(" that
    # follows the last VT_EXTERN (the macro's own definition comes earlier).
    tr '\n' ' ' <"$incdir/$h" | sed 's/;/;\n/g' | grep 'VT_EXTERN ' |
        sed -e 's/.*VT_EXTERN //' -e 's/(.*//' | awk '{ print $NF }' | tr -d '*' \
        >>"$tmp/declared.raw"
done
sort -u "$tmp/declared.raw" >"$tmp/declared"

status=0
foreign=$(grep -v '^vt_' "$tmp/exported" || true)
if [ -n "$foreign" ]; then
    echo "FAIL: $lib exports names outside vt_:" >&2
    echo "$foreign" | sed 's/^/  /' >&2
    status=1
fi

missing=$(comm -23 "$tmp/declared" "$tmp/exported")
if [ -n "$missing" ]; then
    echo "FAIL: declared VT_EXTERN but not defined in $lib:" >&2
    echo "$missing" | sed 's/^/  /' >&2
    status=1
fi

extra=$(comm -13 "$tmp/declared" "$tmp/exported")
if [ -n "$extra" ]; then
    echo "note: exported but declared in no header of vitals.h:"
    echo "$extra" | sed 's/^/  /'
fi

echo "$(wc -l <"$tmp/exported") symbols exported, $(wc -l <"$tmp/declared") declared"
exit $status
