#!/usr/bin/python3
"""demo-table.py - the live RED table of `make demo`, read from Prometheus.

Prints one table per call: for each HTTP route its request rate, error ratio
(5xx share) and p50/p90/p99 latency over the last minute, then the same for
Redis calls per operation and for the simulated database queries. Everything
comes from Prometheus's HTTP API (/api/v1/query), the way a dashboard would
read it:

  sum by (route) (rate(http_requests_total[1m]))
  sum by (route) (rate(http_requests_total{code=~"5.."}[1m]))   / the line above
  histogram_quantile(0.99, sum by (route, le) (rate(http_request_duration_seconds_bucket[1m])))

Usage: demo-table.py PROMETHEUS_URL [--window 1m] [--job reservations]
       demo-table.py --metrics SERVICE_METRICS_URL    (no Prometheus: totals only)
Exit status: 0, or 1 when the source does not answer.

Uses only the Python standard library (Debian's /usr/bin/python3).

SPDX-License-Identifier: MIT
"""
import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

QUANTILES = (0.5, 0.9, 0.99)


def query(prom, expr):
    """Instant query; returns {label value tuple: float} keyed by the result's
    labels in sorted order, or raises OSError when Prometheus does not answer."""
    url = prom.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise OSError(doc.get("error", "query failed"))
    out = {}
    for item in doc["data"]["result"]:
        key = tuple(v for _, v in sorted(item["metric"].items()))
        out[key] = float(item["value"][1])
    return out


def fmt_rate(v):
    if v is None or math.isnan(v):
        return "-"
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def fmt_ratio(v):
    if v is None or math.isnan(v):
        return "-"
    return f"{100 * v:.1f}%"


def fmt_seconds(v):
    if v is None or math.isnan(v) or math.isinf(v):
        return "-"
    if v < 0.001:
        return f"{v * 1e6:.0f} us"
    if v < 1:
        return f"{v * 1e3:.1f} ms" if v < 0.01 else f"{v * 1e3:.0f} ms"
    return f"{v:.2f} s"


def red_section(prom, key_label, counter, histogram, window, job, error_selector):
    """Rows of (key, rate, error ratio, p50, p90, p99) for one RED family;
    error_selector None means the family has no errors (ratio shown as -)."""
    sel = f'{{job="{job}"}}'
    rates = query(prom, f"sum by ({key_label}) (rate({counter}{sel}[{window}]))")
    errors = {}
    if error_selector:
        errors = query(prom, f'sum by ({key_label}) '
                             f'(rate({counter}{{job="{job}",{error_selector}}}[{window}]))')
    quants = {
        q: query(prom, f"histogram_quantile({q}, sum by ({key_label}, le) "
                       f"(rate({histogram}_bucket{sel}[{window}])))")
        for q in QUANTILES
    }
    rows = []
    for key, rate in sorted(rates.items(), key=lambda kv: -kv[1]):
        if rate <= 0:
            continue  # no traffic in the window
        if error_selector:
            ratio = errors.get(key, 0.0) / rate
        else:
            ratio = float("nan")
        rows.append((key[0] if key else "", rate, ratio,
                     *(quants[q].get(key) for q in QUANTILES)))
    return rows


def print_section(title, unit, rows, width=26):
    print(f"{title:<{width}} {unit:>9} {'errors':>8} {'p50':>9} {'p90':>9} {'p99':>9}")
    if not rows:
        print("  (nothing yet: a rate needs two scrapes with traffic between them)")
    for key, rate, ratio, p50, p90, p99 in rows:
        print(f"  {key:<{width - 2}} {fmt_rate(rate):>9} {fmt_ratio(ratio):>8} "
              f"{fmt_seconds(p50):>9} {fmt_seconds(p90):>9} {fmt_seconds(p99):>9}")
    print()


def from_prometheus(prom, window, job):
    up = query(prom, f'up{{job="{job}"}}')
    state = "up" if up and all(v == 1 for v in up.values()) else ("down" if up else "not scraped yet")
    print(f"service {state} for Prometheus (job {job}); rates and quantiles over the last {window}\n")
    sections = [
        ("HTTP route", "req/s",
         red_section(prom, "route", "http_requests_total", "http_request_duration_seconds",
                     window, job, 'code=~"5.."')),
        ("Redis operation", "calls/s",
         red_section(prom, "operation", "redis_calls_total", "redis_call_duration_seconds",
                     window, job, 'status="error"')),
        ("database query", "queries/s",
         red_section(prom, "operation", "db_query_duration_seconds_count",
                     "db_query_duration_seconds", window, job, None)),
    ]
    for title, unit, rows in sections:
        print_section(title, unit, rows)
    connected = query(prom, f'redis_connected{{job="{job}"}}')
    if connected:
        print("redis connected" if all(v == 1 for v in connected.values())
              else "redis NOT connected: the service answers from the database")


SAMPLE = re.compile(r'^http_requests_total\{([^}]*)\} (\S+)')


def from_metrics(url):
    """Totals per route and code straight from the service's /metrics."""
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode("utf-8", "replace")
    totals = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        key = (labels.get("route", "?"), labels.get("code", "?"))
        totals[key] = totals.get(key, 0) + float(m.group(2))
    print("requests since the service started (no Prometheus: no rates or quantiles)\n")
    print(f"{'route':<26} {'code':>5} {'requests':>10}")
    for (route, code), n in sorted(totals.items()):
        print(f"  {route:<24} {code:>5} {n:>10.0f}")


def main():
    ap = argparse.ArgumentParser(description="The RED table of make demo.")
    ap.add_argument("prometheus", nargs="?", help="Prometheus base URL")
    ap.add_argument("--window", default="1m", help="rate window (default 1m)")
    ap.add_argument("--job", default="reservations", help="scrape job of the service")
    ap.add_argument("--metrics", help="read the service's /metrics instead of Prometheus")
    args = ap.parse_args()
    try:
        if args.metrics:
            from_metrics(args.metrics)
        elif args.prometheus:
            from_prometheus(args.prometheus, args.window, args.job)
        else:
            ap.error("give a Prometheus URL or --metrics URL")
    except (OSError, ValueError, KeyError) as e:
        print(f"demo-table: no answer: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
