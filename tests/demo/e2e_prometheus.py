"""e2e_prometheus.py - the demo end to end: redis-server, the reservations
service, loadgen and a real Prometheus scraping every second.

loadgen sends a fixed number of requests from a fixed seed; once it has
finished and Prometheus has scraped again, Prometheus must hold exactly the
counts loadgen received per route and status, Redis GET and SET rates above
zero, and a /checkout error ratio near the configured probability (0.5, with
about 300 checkouts: +-0.15 is more than four standard deviations). The same
seed must give the same request sequence again.

Usage: e2e_prometheus.py <reservations binary> <loadgen binary>
Exit 0 pass, 1 fail, 77 skip (redis-server or prometheus missing, outside CI).

SPDX-License-Identifier: MIT
"""
import json
import os
import shutil
import subprocess
import sys
import time

from procs import (last_scrape, query, remove_dir, scratch_dir, skip, start_prometheus,
                   start_redis, start_service, wait_until)

REQUESTS = 1500
SEED = 20240430
MIX = "reservations=60,checkout=20,database=5,error=5,root=10"
CHECKOUT_ERROR_RATE = 0.5
TOLERANCE = 0.15

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run_loadgen(loadgen, base, workdir, name):
    out = os.path.join(workdir, name + ".json")
    r = subprocess.run([loadgen, "--url", base, "--requests", str(REQUESTS), "--seed", str(SEED),
                        "--rate", "500", "--concurrency", "8", "--mix", MIX, "--quiet",
                        "--json", out], capture_output=True, text=True, timeout=120)
    print(r.stdout, end="")
    if r.returncode != 0:
        print(r.stderr, end="")
    with open(out) as f:
        return r.returncode, json.load(f)


def main():
    if len(sys.argv) != 3:
        print("usage: e2e_prometheus.py <reservations binary> <loadgen binary>")
        return 2
    service_bin, loadgen_bin = sys.argv[1], sys.argv[2]
    for tool in ("redis-server", "prometheus"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed")

    work = scratch_dir("vt-demo-e2e-")
    procs = []
    try:
        redis = start_redis(work)
        procs.append(redis)
        svc = start_service(service_bin, work, "--redis-port", str(redis.port),
                            "--latency-scale", "0.01", "--error-rate", "0.1",
                            "--checkout-error-rate", str(CHECKOUT_ERROR_RATE), "--seed", "5")
        procs.append(svc)
        prom = start_prometheus(work, {"reservations": f"127.0.0.1:{svc.port}"})
        procs.append(prom)
        up = wait_until(lambda: last_scrape(prom.url, "reservations")[1] == "up", 30)
        check(up, "Prometheus scrapes the service (up)")

        rc, report = run_loadgen(loadgen_bin, svc.base, work, "first")
        finished = time.time()
        check(rc == 0, "loadgen exits 0")
        check(report["sent"] == REQUESTS, f"loadgen sent {REQUESTS} requests")
        check(report["answered"] == REQUESTS and report["failed"] == 0,
              "every request was answered")

        # A scrape that started after the last answer holds every request.
        newer = wait_until(lambda: last_scrape(prom.url, "reservations")[0] > finished + 0.2, 15)
        check(newer, "Prometheus scraped after the load finished")

        got = query(prom.url, 'sum by (route, code) (http_requests_total{job="reservations"})')
        check(got is not None, "Prometheus answers the query")
        got = {(dict(k)["route"], dict(k)["code"]): v for k, v in (got or {}).items()}
        expected = {(route, code): n for route, r in report["routes"].items()
                    for code, n in r["codes"].items()}
        for key in sorted(expected):
            check(got.get(key) == expected[key],
                  f"{key[0]} {key[1]}: Prometheus {got.get(key)} == loadgen {expected[key]}")
        extra = {k: v for k, v in got.items() if k not in expected and k[0] != "/metrics"}
        check(not extra, f"no series beyond loadgen's and /metrics: {extra}")
        check(all(not r.startswith("/reservations/") or r == "/reservations/:user_id"
                  for r, _ in got), "routes are templates, never raw paths")
        check(("/reservations/:user_id", "400") in expected, "long ids were answered 400")

        rates = query(prom.url, 'sum by (operation) '
                                '(rate(redis_calls_total{job="reservations",status="success"}[1m]))')
        rates = {dict(k)["operation"]: v for k, v in (rates or {}).items()}
        check(rates.get("GET", 0) > 0, f"Redis GET rate > 0 ({rates.get('GET')})")
        check(rates.get("SET", 0) > 0, f"Redis SET rate > 0 ({rates.get('SET')})")

        errors = query(prom.url, 'sum(http_requests_total{job="reservations",route="/checkout",'
                                 'code=~"5.."}) / sum(http_requests_total{job="reservations",'
                                 'route="/checkout"})')
        ratio = next(iter(errors.values())) if errors else float("nan")
        checkouts = report["routes"]["/checkout"]["sent"]
        check(checkouts >= 250, f"{checkouts} checkouts sent")
        check(abs(ratio - CHECKOUT_ERROR_RATE) <= TOLERANCE,
              f"/checkout error ratio {ratio:.3f} within {CHECKOUT_ERROR_RATE} +- {TOLERANCE}")
        # The dashboard's form, over rates: only printed, since a series born
        # between two scrapes loses its first increments to rate().
        rate_ratio = query(prom.url,
                           'sum(rate(http_requests_total{job="reservations",route="/checkout",'
                           'code=~"5.."}[1m])) / sum(rate(http_requests_total{job="reservations",'
                           'route="/checkout"}[1m]))')
        rr = next(iter(rate_ratio.values())) if rate_ratio else float("nan")
        print(f"info /checkout error ratio from rate() over 1m: {rr:.3f}")

        # /database sleeps 5-15 ms at latency scale 0.01.
        p50 = query(prom.url, 'histogram_quantile(0.5, sum by (le) (rate('
                              'http_request_duration_seconds_bucket{job="reservations",'
                              'route="/database"}[1m])))')
        p50 = next(iter(p50.values())) if p50 else float("nan")
        check(0.005 <= p50 <= 0.025, f"/database median {p50:.4f} s in [0.005, 0.025]")
        db = query(prom.url, 'sum by (operation) '
                             '(db_query_duration_seconds_count{job="reservations"})')
        db = {dict(k)["operation"]: v for k, v in (db or {}).items()}
        check(db.get("select") == report["routes"]["/database"]["codes"].get("200"),
              "one select query per /database request")

        # The same seed sends the same sequence.
        rc, again = run_loadgen(loadgen_bin, svc.base, work, "second")
        check(rc == 0 and {r: v["sent"] for r, v in again["routes"].items()} ==
              {r: v["sent"] for r, v in report["routes"].items()},
              "the same seed sends the same requests per route")

        status = svc.stop()
        check(status == 0, f"the service exits 0 on SIGTERM ({status})")
    finally:
        for p in reversed(procs):
            p.stop()
        if failures:
            for p in procs:
                if p.name != "prometheus":
                    print(f"--- {p.name} log ---\n{p.log_text()}")
        remove_dir(work)

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
