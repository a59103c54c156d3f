#!/bin/sh
# run-smoke.sh - build each libFuzzer target with clang and run it briefly.
#
# Usage: run-smoke.sh [--clang PATH] [--out DIR] [--runs N] [--max-time S] [--max-len N]
#                     [TARGET...]
#
# TARGET "x" builds tests/fuzz/fuzz_x.c under -fsanitize=fuzzer,address,undefined
# with the sources its "vt-fuzz:" comment lines name, then runs it for N inputs
# (default 20000) or S seconds (default 0: no limit), whichever ends first,
# starting from the seeds in tests/fuzz/corpus/x/. A line
# reads, for example,
#     vt-fuzz: sources=core,http/encoding.c libs=-lm,-lpthread
# (several lines add up), where each source is a folder of src/ (in a git
# checkout, the folder's tracked .c files) or one file under src/. Without
# such a line a target builds from src/x/ and links -lm (the parser's
# target). Objects are compiled once into DIR/obj and rebuilt when their
# source or a header they include changes, so the targets share the core's
# objects. New inputs go to a scratch corpus under DIR, never into the
# repository. With no TARGET, every tests/fuzz/fuzz_*.c whose sources exist
# runs. Exit 0 when every run finished clean, 1 on a finding or a build
# failure, 77 (skip) when clang or libFuzzer is missing, unless CI is set.
#
# SPDX-License-Identifier: MIT
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
clang=${CLANG:-clang}
out=${TMPDIR:-/tmp}/vitals-fuzz-smoke
runs=20000
max_time=0
max_len=4096

while [ $# -gt 0 ]; do
    case "$1" in
    --clang) clang=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --max-time) max_time=$2; shift 2 ;;
    --max-len) max_len=$2; shift 2 ;;
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
mkdir -p "$out/obj" || exit 1

# Does this clang link libFuzzer?
probe="$out/probe.c"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe"
"$clang" -fsanitize=fuzzer "$probe" -o "$out/probe" >/dev/null 2>&1 || skip "$clang cannot link libFuzzer"

cflags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE"
cflags="$cflags -I$root/include -I$root/src"

# spec_field <file> <sources|libs>: the field over all of the file's vt-fuzz
# lines, commas turned into spaces; empty when there is none.
spec_field() {
    sed -n 's/.*vt-fuzz:\(.*\)$/\1/p' "$1" | tr ' ' '\n' |
        sed -n "s/^$2=//p" | tr ',\n' '  '
}

# dir_sources <folder>: the .c files of src/<folder>; in a git checkout only the
# tracked ones, so a file someone is still writing does not break the build.
dir_sources() {
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$root" ls-files -- "src/$1/*.c" | grep -v "^src/$1/.*/" | sed "s|^|$root/|"
    else
        ls "$root/src/$1"/*.c
    fi
}

# sources_of <name>: the .c files of target <name>, one per line; status 1
# when a listed source does not exist.
sources_of() {
    items=$(spec_field "$here/fuzz_$1.c" sources)
    [ -n "$items" ] || items=$1
    for item in $items; do
        case "$item" in
        *.c) [ -f "$root/src/$item" ] || return 1; echo "$root/src/$item" ;;
        *) [ -d "$root/src/$item" ] || return 1; dir_sources "$item" ;;
        esac
    done
}

# up_to_date <obj> <depfile>: the object is newer than everything it was built from.
up_to_date() {
    [ -f "$1" ] && [ -f "$2" ] || return 1
    for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$2"); do
        [ "$dep" -nt "$1" ] && return 1
    done
    return 0
}

# object_of <source>: compile the source into the cache if needed; print the object.
object_of() {
    rel=${1#"$root"/}
    obj="$out/obj/$(echo "$rel" | tr '/' '_').o"
    if ! up_to_date "$obj" "$obj.d"; then
        # shellcheck disable=SC2086
        "$clang" $cflags -MMD -MF "$obj.d" -c "$1" -o "$obj" || return 1
    fi
    echo "$obj"
}

if [ $# -eq 0 ]; then
    for f in "$here"/fuzz_*.c; do
        name=$(basename "$f" .c)
        name=${name#fuzz_}
        sources_of "$name" >/dev/null 2>&1 && set -- "$@" "$name"
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
    if ! srcs=$(sources_of "$name"); then
        echo "FAIL: fuzz_$name names a source that does not exist" >&2
        status=1
        continue
    fi
    objs=""
    built=1
    for s in $srcs "$src"; do
        if ! o=$(object_of "$s"); then
            built=0
            break
        fi
        objs="$objs $o"
    done
    libs=$(spec_field "$src" libs)
    [ -n "$libs" ] || libs=-lm
    # shellcheck disable=SC2086
    if [ $built -eq 0 ] ||
        ! "$clang" -fsanitize=fuzzer,address,undefined $objs $libs -o "$bin"; then
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
    started=$(date +%s)
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -runs="$runs" -max_total_time="$max_time" -max_len="$max_len" -seed=1 \
        -print_final_stats=1 \
        -artifact_prefix="$out/artifacts-$name/" "$work" $seeds; then
        echo "== fuzz_$name: clean (up to $runs inputs in $(($(date +%s) - started)) s)"
    else
        echo "FAIL: fuzz_$name found a problem; the input is in $out/artifacts-$name/" >&2
        status=1
    fi
done
exit $status
