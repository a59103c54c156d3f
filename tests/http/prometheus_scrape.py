"""prometheus_scrape.py - a real Prometheus scrapes the http_hello example
while this test sends it a known number of requests per route and status;
after a scrape newer than the last request, Prometheus must report exactly
those counts, and the median latency of the slow route must fall in the
bucket of its known latency.

Usage: prometheus_scrape.py <path to http_hello>
Exit 0 pass, 1 fail, 77 skip (prometheus not installed, outside CI).
Prometheus runs on 127.0.0.1 on a free port with a temporary TSDB directory;
both processes are stopped by pid and the directory is removed.

SPDX-License-Identifier: MIT
"""
import os
import re
import shutil
import sys
import tempfile
import time

from hello_service import Hello, skip, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from promtest import api, query, start, stop  # noqa: E402

WORK_MS = 30  # /hello/:name sleeps this long: its bucket is (0.025, 0.05]

# (method, path, expected status, how many)
TRAFFIC = [
    ("GET", "/hello/alice", 200, 7),
    ("GET", "/hello/bob?lang=fr", 200, 5),
    ("POST", "/echo", 200, 4),
    ("GET", "/echo", 405, 3),
    ("PUT", "/hello/carol", 405, 1),
    ("GET", "/no/such/page", 404, 2),
    ("GET", "/static/../../etc/passwd", 404, 1),
]
EXPECTED = {
    ("/hello/:name", "200"): 12,
    ("/echo", "200"): 4,
    ("/echo", "405"): 3,
    ("/hello/:name", "405"): 1,
    ("unmatched", "404"): 3,
}

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def rfc3339_seconds(ts):
    """'2026-11-22T05:13:17.123456789Z' -> Unix seconds (float)."""
    m = re.match(r"(\d+-\d+-\d+T\d+:\d+:\d+)(\.\d+)?(Z|[+-]\d\d:\d\d)$", ts or "")
    if not m:
        return 0.0
    import datetime

    base = datetime.datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z"
                                                         else m.group(3)))
    return base.timestamp() + float(m.group(2) or 0)


def last_scrape(prom_port):
    d = api(prom_port, "/api/v1/targets")
    try:
        t = d["data"]["activeTargets"][0]
        return t["health"], rfc3339_seconds(t["lastScrape"])
    except (TypeError, KeyError, IndexError):
        return None, 0.0


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    prometheus = shutil.which("prometheus")
    if not prometheus:
        skip("prometheus is not installed (Debian package prometheus)")

    tmp = tempfile.mkdtemp(prefix="vt-prom-")
    svc = prom = None
    try:
        svc = Hello(sys.argv[1], "--work-ms", str(WORK_MS))
        prom, prom_port = start(prometheus, tmp, "hello", svc.port)
        up = wait_until(lambda: last_scrape(prom_port)[0] == "up", 60)
        check(bool(up), "Prometheus scrapes http_hello (target up)")

        for method, path, status, n in TRAFFIC:
            body = b"hello" if method in ("POST", "PUT") else None
            got = [svc.request(method, path, body=body)[0] for _ in range(n)]
            check(got == [status] * n, f"{n} x {method} {path} answered {status}")
        time.sleep(0.2)  # the last completion callback runs just after its answer
        t_last = time.time()

        newer = wait_until(lambda: last_scrape(prom_port)[1] > t_last + 0.05, 30)
        check(bool(newer), "Prometheus scraped after the last request")

        res = query(prom_port, 'sum by (route, code) (http_requests_total{route!="/metrics"})')
        got = {(r["metric"].get("route"), r["metric"].get("code")): float(r["value"][1])
               for r in (res or [])}
        check(got == {k: float(v) for k, v in EXPECTED.items()},
              f"sum by (route, code) (http_requests_total) equals what was sent: {got}")

        res = query(prom_port, "histogram_quantile(0.5, sum by (le) "
                               '(http_request_duration_seconds_bucket{route="/hello/:name"}))')
        q = float(res[0]["value"][1]) if res else float("nan")
        check(0.025 < q <= 0.05,
              f"median /hello/:name latency {q:.4f} s is in the bucket of {WORK_MS} ms")

        res = query(prom_port, 'sum(http_requests_total{route="/metrics",code="200"})')
        scrapes = float(res[0]["value"][1]) if res else 0
        check(scrapes >= 1, f"the scrapes themselves are measured ({scrapes:.0f})")
    finally:
        stop(prom)
        if svc:
            svc.stop()
        if failures and os.path.exists(os.path.join(tmp, "prometheus.log")):
            with open(os.path.join(tmp, "prometheus.log")) as f:
                print("--- prometheus.log (tail)\n" + "".join(f.readlines()[-20:]))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
