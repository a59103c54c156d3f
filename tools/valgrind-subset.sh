#!/usr/bin/env bash
# valgrind-subset.sh - run a representative subset of the ctest tests under
# valgrind memcheck: zero errors and zero definite or indirect leaks, or fail.
#
# Usage: tools/valgrind-subset.sh [BUILD_DIR]     (default build/dev)
#
# The tests come from ctest itself (`ctest --show-only=json-v1`), so each runs
# with the command, working directory and environment ctest would give it.
# Which ones: names matching VALGRIND_TESTS (an extended regular expression;
# by default the core and parser unit tests, HTTP rendering and the embedded
# server, and the registry visit of the push library) and not
# VALGRIND_EXCLUDE (by default core_fmt_double, which checks millions of
# numbers and would take minutes). Tests that assert speed (http_red,
# http_routes, push_statsd) stay out: under valgrind they fail for that alone.
# Every program must be an executable of the build tree; scripts are passed
# over. VALGRIND_JOBS (default 2) tests run at once. Each log is kept in
# BUILD_DIR/valgrind/<test>.log.
#
# Exit 0 when every test passed with a clean report, 1 otherwise; 77 (skip)
# when valgrind or the build is missing, unless CI is set.
#
# SPDX-License-Identifier: MIT
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/dev}
include=${VALGRIND_TESTS:-'^(core_.*|parse_.*|http_render|http_server|push_visit)$'}
exclude=${VALGRIND_EXCLUDE:-'^(core_fmt_double|parse_fuzz_smoke)$'}
jobs=${VALGRIND_JOBS:-2}
vg_opts=(--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
         --show-leak-kinds=definite,indirect --track-origins=yes --num-callers=30 -q)

skip() {
    if [ -n "${CI:-}" ]; then
        echo "valgrind-subset: FAIL (prerequisite missing under CI): $1" >&2
        exit 1
    fi
    echo "valgrind-subset: SKIP: $1"
    exit 77
}

command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed (tools/install-deps.sh)"
[ -f "$build/CTestTestfile.cmake" ] || skip "no test tree in $build (make build first)"
logs=$build/valgrind
mkdir -p "$logs" || exit 1

# One line per selected test, tab-separated: its name, its working directory,
# "env" with its environment, its command (all but the name shell-quoted).
plan=$(ctest --test-dir "$build" --show-only=json-v1 2>/dev/null |
    /usr/bin/python3 -c '
import json, re, shlex, sys, os
inc, exc, build = re.compile(sys.argv[1]), re.compile(sys.argv[2]), os.path.realpath(sys.argv[3])
for t in json.load(sys.stdin)["tests"]:
    name, cmd = t["name"], t.get("command") or []
    if not inc.search(name) or exc.search(name) or not cmd:
        continue
    exe = os.path.realpath(cmd[0])
    if not exe.startswith(build + os.sep) or not os.access(exe, os.X_OK):
        continue
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    wd = props.get("WORKING_DIRECTORY", os.path.dirname(exe))
    env = ["env"] + list(props.get("ENVIRONMENT", []))
    print("\t".join([name, shlex.quote(wd), shlex.join(env), shlex.join(cmd)]))
' "$include" "$exclude" "$build")
[ -n "$plan" ] || skip "no test in $build matches $include"

# run_one <name> <workdir> <env ...> <command>: one test under valgrind.
run_one() {
    local name=$1 wd=$2 envs=$3 cmd=$4 log=$logs/$1.log started rc
    started=$(date +%s)
    (eval "cd $wd && $envs timeout 900 valgrind ${vg_opts[*]} $cmd") >"$log" 2>&1
    rc=$?
    local took=$(($(date +%s) - started))
    case $rc in
    0) echo "valgrind-subset: ok   $name (${took} s)" ;;
    77) echo "valgrind-subset: skip $name (${took} s)" ;;
    99) echo "valgrind-subset: FAIL $name: memcheck errors or leaks, see $log" ; return 1 ;;
    *) echo "valgrind-subset: FAIL $name: exit $rc, see $log" ; return 1 ;;
    esac
}

started=$(date +%s)
failed=0
count=0
running=0
while IFS=$'\t' read -r name wd envs cmd; do
    count=$((count + 1))
    run_one "$name" "$wd" "$envs" "$cmd" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || failed=$((failed + 1))
        running=$((running - 1))
    fi
done <<<"$plan"
while [ "$running" -gt 0 ]; do
    wait -n || failed=$((failed + 1))
    running=$((running - 1))
done

echo "valgrind-subset: $((count - failed)) of $count tests clean under memcheck" \
    "in $(($(date +%s) - started)) s"
[ "$failed" -eq 0 ]
