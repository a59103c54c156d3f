#!/bin/sh
# gen-deploy-files.sh - write the generated files of deploy/ from the committed
# exposition of the demo service (deploy/fixtures/reservations.metrics):
#
#   grafana/dashboards/reservations.json           vitals dashboard
#   grafana/provisioning/datasources/prometheus.yaml   (its --provisioning files,
#   grafana/provisioning/dashboards/provider.yaml       with the stack's paths)
#   prometheus/rules.yml, prometheus/rules.test.yml    vitals rules
#
# `make deploy-files` runs it on deploy/; the deploy_files_drift test runs it
# on a scratch directory and compares. When the vitals command has no `rules`
# yet, the rules are left out and a note says so.
#
# Usage: tools/gen-deploy-files.sh VITALS [OUT_DIR]   (OUT_DIR: deploy/)
#
# SPDX-License-Identifier: MIT
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 VITALS [OUT_DIR]" >&2
    exit 2
fi
vitals=$1
out=${2:-$root/deploy}
fixture=$root/deploy/fixtures/reservations.metrics

if [ ! -x "$vitals" ]; then
    echo "gen-deploy-files: $vitals is not an executable (build the vitals command first)" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$out/grafana/dashboards" "$out/grafana/provisioning/datasources" \
    "$out/grafana/provisioning/dashboards" "$out/prometheus"

# The paths are the ones inside the containers (deploy/docker-compose.yml).
"$vitals" dashboard --title "Reservations" --uid reservations --datasource Prometheus \
    --provisioning "$tmp/provisioning" --prometheus-url http://prometheus:9090 \
    --dashboards-path /etc/grafana/dashboards \
    -o "$out/grafana/dashboards/reservations.json" "$fixture"
cp "$tmp/provisioning/datasources.yaml" "$out/grafana/provisioning/datasources/prometheus.yaml"
cp "$tmp/provisioning/dashboards.yaml" "$out/grafana/provisioning/dashboards/provider.yaml"

if "$vitals" rules --help >/dev/null 2>&1; then
    # --tests names rules.yml relative to the test file, so write both side
    # by side in the scratch directory, then move them.
    "$vitals" rules -o "$tmp/rules.yml" --tests "$tmp/rules.test.yml" "$fixture"
    cp "$tmp/rules.yml" "$out/prometheus/rules.yml"
    cp "$tmp/rules.test.yml" "$out/prometheus/rules.test.yml"
else
    echo "gen-deploy-files: $vitals has no 'rules' command; rules not generated" >&2
fi
