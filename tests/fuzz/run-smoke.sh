#!/bin/sh
# run-smoke.sh - build each libFuzzer target with clang and run it briefly.
#
# Usage: run-smoke.sh [--clang PATH] [--out DIR] [--runs N] [TARGET...]
#
# TARGET "parse" builds tests/fuzz/fuzz_parse.c with the sources of
# src/parse/ under -fsanitize=fuzzer,address,undefined, then runs it for N
# inputs (default 20000) starting from the seeds in tests/fuzz/corpus/parse/.
# New inputs go to a scratch corpus under DIR, never into the repository.
# With no TARGET, every tests/fuzz/fuzz_*.c whose src/<name>/ exists runs.
# Exit 0 when every run finished clean, 1 on a finding or a build failure,
# 77 (skip) when clang or libFuzzer is missing, unless CI is set.
#
# SPDX-License-Identifier: MIT
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
clang=${CLANG:-clang}
out=${TMPDIR:-/tmp}/vitals-fuzz-smoke
runs=20000

while [ $# -gt 0 ]; do
    case "$1" in
    --clang) clang=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "run-smoke.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done

skip() {
    if [ -n "${CI:-}" ]; then
        echo "FAIL (prerequisite missing under CI): $1" >&2
        exit 1
    fi
    echo "SKIP: $1"
    exit 77
}

command -v "$clang" >/dev/null 2>&1 || skip "clang not found ($clang)"
mkdir -p "$out" || exit 1

# Does this clang link libFuzzer?
probe="$out/probe.c"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe"
"$clang" -fsanitize=fuzzer "$probe" -o "$out/probe" >/dev/null 2>&1 || skip "$clang cannot link libFuzzer"

if [ $# -eq 0 ]; then
    for f in "$here"/fuzz_*.c; do
        name=$(basename "$f" .c)
        name=${name#fuzz_}
        [ -d "$root/src/$name" ] && set -- "$@" "$name"
    done
fi

status=0
for name in "$@"; do
    src="$here/fuzz_$name.c"
    if [ ! -f "$src" ]; then
        echo "run-smoke.sh: no $src" >&2
        status=1
        continue
    fi
    bin="$out/fuzz_$name"
    echo "== build fuzz_$name"
    # shellcheck disable=SC2046
    if ! "$clang" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -D_GNU_SOURCE -I"$root/include" -I"$root/src" "$src" $(ls "$root/src/$name"/*.c) -lm \
        -o "$bin"; then
        echo "FAIL: fuzz_$name does not build" >&2
        status=1
        continue
    fi
    work="$out/corpus-$name"
    rm -rf "$work" "$out/artifacts-$name"
    mkdir -p "$work" "$out/artifacts-$name"
    seeds="$here/corpus/$name"
    [ -d "$seeds" ] || seeds=""
    echo "== run fuzz_$name for $runs inputs"
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -runs="$runs" -max_len=4096 -seed=1 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts-$name/" "$work" $seeds; then
        echo "== fuzz_$name: clean"
    else
        echo "FAIL: fuzz_$name found a problem; the input is in $out/artifacts-$name/" >&2
        status=1
    fi
done
exit $status
