#!/usr/bin/python3
"""scrape_storm.py - /metrics scraped by many clients at once while the service
is busy: no error, no crash, bounded memory.

Usage: scrape_storm.py TARGET_BINARY

1. wrk, 16 connections for 3 s, on the embedded server's /metrics (2000
   series, max_in_flight 16), while a second wrk keeps 4 connections busy on
   the service's /api/items/:id and two threads of the target record
   requests and bump counters: every answer is 200, no socket error, no
   timeout.
2. The same on the service's own /metrics (served by the RED adapter).
3. The server with its defaults (max_in_flight 4): 16 clients scraping in
   a loop for 3 s get 200 or 503, and every 503 carries Retry-After; that is
   the server shedding load as documented, not an error.
The numbers (scrapes per second, latency percentiles, RSS) are printed.

SPDX-License-Identifier: MIT
"""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

checks = rlib.Checks()


def wrk(url, conns, seconds):
    return subprocess.Popen(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency",
                             "--timeout", "2s", url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_summary(out):
    """(requests, non-2xx, socket errors, p50 text, p99 text, requests/s)."""
    req = re.search(r"(\d+) requests in", out)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    rps = re.search(r"Requests/sec:\s+(\S+)", out)
    return (int(req[1]) if req else 0, int(non[1]) if non else 0,
            sum(int(x) for x in sock.groups()) if sock else 0,
            p50[1] if p50 else "?", p99[1] if p99 else "?", rps[1] if rps else "?")


def storm(t, port, label):
    rss0 = t.rss_kib()
    busy = wrk(f"http://127.0.0.1:{t.red}/api/items/1", 4, 4)
    time.sleep(0.3)
    scr = wrk(f"http://127.0.0.1:{port}/metrics", 16, 3)
    out, _ = scr.communicate(timeout=60)
    busy.communicate(timeout=60)
    n, non2xx, sockerr, p50, p99, rps = wrk_summary(out)
    print(f"{label}: {n} scrapes by 16 clients in 3 s ({rps}/s), p50 {p50}, p99 {p99}; "
          f"non-2xx {non2xx}, socket errors {sockerr}; RSS {rss0 / 1024:.0f} -> "
          f"{t.rss_kib() / 1024:.0f} MiB")
    checks.check(n >= 16, f"{label}: only {n} scrapes")
    checks.check(non2xx == 0, f"{label}: {non2xx} answers other than 200")
    checks.check(sockerr == 0, f"{label}: {sockerr} socket errors or timeouts\n{out}")
    checks.check(t.alive(), f"{label}: target alive")


def shed(t):
    """16 looping clients against max_in_flight 4: only 200 and 503."""
    counts = {}
    bad = []
    lock = threading.Lock()
    end = time.monotonic() + 3.0

    def client():
        while time.monotonic() < end:
            try:
                s = rlib.connect(t.server, 5)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                r = rlib.read_response(s, time.monotonic() + 5)
                s.close()
                status = r[0] if r else "closed"
                retry = r[1].get("retry-after") if r else None
            except OSError as e:
                status, retry = f"error {e.__class__.__name__}", None
            with lock:
                counts[status] = counts.get(status, 0) + 1
                if status == 503 and not retry:
                    bad.append("503 without Retry-After")

    threads = [threading.Thread(target=client) for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(f"defaults (max_in_flight 4), 16 clients for 3 s: answers {counts}")
    checks.check(set(counts) <= {200, 503}, f"answers other than 200 and 503: {counts}")
    checks.check(counts.get(200, 0) > 0, "some scrapes succeed")
    checks.check(not bad, f"{len(bad)} answers 503 without Retry-After")


def main():
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        rlib.skip("usage: scrape_storm.py TARGET_BINARY (reliability_target not built)")
    if not shutil.which("wrk"):
        rlib.skip("wrk is not installed (tools/install-deps.sh)")
    t = rlib.Target(sys.argv[1], "--max-in-flight", "16", "--max-connections", "64",
                    "--series", "2000", "--load", "2", "--red-mode", "poll")
    storm(t, t.server, "embedded server")
    storm(t, t.red, "service /metrics")
    rc = t.stop()
    checks.check(rc == 0, f"target exit status {rc}")

    t = rlib.Target(sys.argv[1], "--series", "2000", "--load", "2")
    shed(t)
    rc = t.stop()
    checks.check(rc == 0, f"target exit status {rc}")
    checks.report()


if __name__ == "__main__":
    main()
