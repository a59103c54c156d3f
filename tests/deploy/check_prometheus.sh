#!/bin/sh
# check_prometheus.sh - promtool accepts the demo stack's Prometheus config,
# with its rule file resolved, and the generated rules and their unit tests.
#
# The config names rules.yml relative to itself, so promtool reads it in place
# exactly as Prometheus reads /etc/prometheus/rules.yml in the container. A
# scratch copy whose rule file is missing must be refused, so the check is
# known to follow the reference.
#
# Usage: check_prometheus.sh SOURCE_DIR
#
# SPDX-License-Identifier: MIT
set -u
src=$1
. "$(dirname "$0")/skip.sh"
command -v promtool >/dev/null 2>&1 ||
    skip_or_fail "promtool is not installed (Debian package prometheus)"

prom=$src/deploy/prometheus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { # check NAME EXPECTED_STATUS COMMAND...
    name=$1
    want=$2
    shift 2
    "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -eq "$want" ]; then
        passed=$((passed + 1))
    else
        echo "FAIL: $name: exit $got, expected $want"
        sed 's/^/    /' "$tmp/out"
        failed=$((failed + 1))
    fi
}

check "check config" 0 promtool check config "$prom/prometheus.yml"
grep -q "1 rule files found" "$tmp/out" || {
    echo "FAIL: promtool did not load the rule file"
    failed=$((failed + 1))
}
check "check rules" 0 promtool check rules "$prom/rules.yml"
if [ -f "$prom/rules.test.yml" ]; then
    check "test rules" 0 promtool test rules "$prom/rules.test.yml"
fi

# A config whose rule file does not exist fails.
cp "$prom/prometheus.yml" "$tmp/prometheus.yml"
check "missing rule file refused" 1 promtool check config "$tmp/prometheus.yml"
# A rule file with a broken expression fails.
sed 's/rate(/rate((/' "$prom/rules.yml" >"$tmp/rules.yml"
check "broken rules refused" 1 promtool check rules "$tmp/rules.yml"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
