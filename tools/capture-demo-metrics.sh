#!/bin/sh
# capture-demo-metrics.sh - refresh deploy/fixtures/reservations.metrics: run
# the reservations service once with a private redis-server, send it five
# seconds of loadgen traffic (every route and status), and save its /metrics.
#
# Everything listens on 127.0.0.1 on free ports and is stopped by pid. Run
# `make deploy-files` afterwards to regenerate the dashboard and rules.
#
# Usage: tools/capture-demo-metrics.sh BUILD_DIR [OUT]
#   BUILD_DIR holds examples/reservations and examples/loadgen (a configured
#   and built tree); OUT defaults to deploy/fixtures/reservations.metrics.
#
# SPDX-License-Identifier: MIT
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BUILD_DIR [OUT]" >&2
    exit 2
fi
bin=$1
out=${2:-$root/deploy/fixtures/reservations.metrics}
svc=$bin/examples/reservations/reservations
load=$bin/examples/loadgen/loadgen
for p in "$svc" "$load"; do
    [ -x "$p" ] || { echo "capture: $p is not built" >&2; exit 2; }
done
command -v redis-server >/dev/null || { echo "capture: redis-server is missing" >&2; exit 2; }

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

rport=$(free_port)
redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
pids="$pids $!"
sport=$(free_port)
"$svc" --port "$sport" --redis-port "$rport" --latency-scale 0.05 --seed 7 >"$tmp/svc.log" 2>&1 &
pids="$pids $!"
i=0
until curl -fsS -o /dev/null "http://127.0.0.1:$sport/up" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -ge 100 ]; then
        cat "$tmp/svc.log" >&2
        echo "capture: the service did not start" >&2
        exit 1
    fi
    sleep 0.1
done
"$load" --url "http://127.0.0.1:$sport" --rate 200 --duration 5 --seed 7 --quiet >/dev/null
curl -fsS "http://127.0.0.1:$sport/metrics" >"$tmp/metrics"
mv "$tmp/metrics" "$out"
echo "capture: $(grep -vc '^#' "$out") samples in $out"
