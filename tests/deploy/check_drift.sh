#!/bin/sh
# check_drift.sh - the generated files of deploy/ are what tools/gen-deploy-files.sh
# makes today from the committed fixture: no hand edits, no stale output.
#
# Regenerates into a scratch directory with the vitals command of this build
# and compares file by file. The rules are compared when the command has
# `rules`; without it the test fails under CI if deploy/prometheus/rules.yml
# exists (it could not be checked), and only warns on a developer's machine.
#
# Usage: check_drift.sh VITALS SOURCE_DIR
#
# SPDX-License-Identifier: MIT
set -u
vitals=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$src/tools/gen-deploy-files.sh" "$vitals" "$tmp/deploy" 2>"$tmp/gen.err"; then
    cat "$tmp/gen.err" >&2
    echo "FAIL: tools/gen-deploy-files.sh failed"
    exit 1
fi

files="grafana/dashboards/reservations.json
grafana/provisioning/datasources/prometheus.yaml
grafana/provisioning/dashboards/provider.yaml"
if "$vitals" rules --help >/dev/null 2>&1; then
    files="$files
prometheus/rules.yml
prometheus/rules.test.yml"
elif [ -f "$src/deploy/prometheus/rules.yml" ]; then
    if [ -n "${CI:-}" ]; then
        echo "FAIL: deploy/prometheus/rules.yml exists but $vitals cannot generate rules"
        exit 1
    fi
    echo "note: $vitals has no 'rules' command; deploy/prometheus/rules.yml not compared"
fi

passed=0
failed=0
for f in $files; do
    if [ ! -f "$src/deploy/$f" ]; then
        echo "FAIL: deploy/$f is missing: run make deploy-files"
        failed=$((failed + 1))
    elif ! cmp -s "$tmp/deploy/$f" "$src/deploy/$f"; then
        echo "FAIL: deploy/$f differs from what the generator writes: run make deploy-files"
        diff -u "$src/deploy/$f" "$tmp/deploy/$f" | head -n 40
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
done

# The check itself must see a change: alter one generated file and compare.
printf ' ' >>"$tmp/deploy/grafana/dashboards/reservations.json"
if cmp -s "$tmp/deploy/grafana/dashboards/reservations.json" \
    "$src/deploy/grafana/dashboards/reservations.json"; then
    echo "FAIL: an altered dashboard compared equal"
    failed=$((failed + 1))
else
    passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
