#!/usr/bin/python3
"""bench.py - the prometheus_client harness of the vitals comparison: the
workloads of bench/compare/README.md written against the Python client, one
workload per process, printed as JSON rows like the vitals harness.

Usage: bench.py run WORKLOAD [--quick] | serve PORT | list

Run with /usr/bin/python3 and Debian's python3-prometheus-client. Loops use
itertools.repeat / cycle, the cheapest Python loop, timed in the process's
CPU time like every harness's, and the reference row
ref_plain_inc is `x += 1` in the same loop, so the loop's own cost can be read
off. contended_inc runs two threads, which the GIL lets run one at a time: its
rows report that as measured. _created series are switched off (the client's
documented environment variable) so the text output holds the same series as
the other clients'.

SPDX-License-Identifier: MIT
"""
import os

os.environ["PROMETHEUS_DISABLE_CREATED_SERIES"] = "True"

import gc  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from itertools import cycle, islice, repeat  # noqa: E402

from prometheus_client import (CollectorRegistry, Counter, Histogram, Summary,  # noqa: E402
                               generate_latest, start_http_server)

LIB = "prometheus_client"
CALIBRATE_NS = 50e6
MEASURE_NS = 200e6
QUICK_OPS = 20000
WARMUP_OPS = 100000
NVALUES = 1024
BUCKETS = (.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
METHODS = ("GET", "POST", "PUT", "DELETE")
CODES = ("200", "201", "400", "404", "500")
LABELS = ("method", "path", "code")
# Timed sections of one thread run in the process's CPU time, as in every
# harness; wall time only gives the two-thread rate.
cpu = time.process_time_ns
now = time.perf_counter_ns


def row(name, unit, value):
    print(json.dumps({"lib": LIB, "name": name, "unit": unit, "value": value}), flush=True)


def measure(loop, quick):
    """Doubles n until one run lasts CALIBRATE_NS (the warm-up), then runs
    about MEASURE_NS once; returns (ns, n) of that run."""
    n = QUICK_OPS if quick else 1000
    d = loop(n)
    if quick:
        return d, n
    while d < CALIBRATE_NS:
        n *= 8 if d < CALIBRATE_NS / 16 else 2
        d = loop(n)
    n = int(n * MEASURE_NS / d) + 1
    return loop(n), n


def per_op_row(name, loop, quick):
    ns, n = measure(loop, quick)
    row(name, "ns/op", ns / n)


def two_threads(work, n):
    """Runs work(n) on two threads released together; returns the wall ns
    until both finished, the mean CPU ns of the two timed loops (a thread
    waiting for the GIL uses none) and the process's CPU time over the wall
    time."""
    gate = threading.Barrier(3)
    cpu = [0, 0]

    def worker(k):
        work(min(n, WARMUP_OPS))
        gate.wait()
        c0 = time.thread_time_ns()
        work(n)
        cpu[k] = time.thread_time_ns() - c0

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    gate.wait()
    c0, t0 = time.process_time_ns(), now()
    for t in threads:
        t.join()
    wall = now() - t0
    return wall, (cpu[0] + cpu[1]) / 2, (time.process_time_ns() - c0) / wall


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE")


def fill_values():
    """Log-uniform 1 ms .. 20 s from the xorshift sequence of every harness."""
    mask = (1 << 64) - 1
    x = 0x9e3779b97f4a7c15
    out = []
    for _ in range(NVALUES):
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        out.append(0.001 * 20000.0 ** ((x >> 11) / 9007199254740992.0))
    return out


def combos():
    return [(m, p, c) for m in ("GET", "POST")
            for p in ("/reservations/:user_id", "/reservations", "/health")
            for c in ("200", "404")]


def ref(quick):
    def plain(n):
        x = 0
        t0 = cpu()
        for _ in repeat(None, n):
            x += 1
        return cpu() - t0
    per_op_row("ref_plain_inc", plain, quick)
    return 0


def counter_inc(quick):
    c = Counter("bench_requests_total", "Requests.", registry=CollectorRegistry())

    def loop(n):
        t0 = cpu()
        for _ in repeat(None, n):
            c.inc()
        return cpu() - t0
    per_op_row("counter_inc", loop, quick)
    return 0


def labeled_inc(quick):
    c = Counter("bench_http_requests_total", "Requests.", LABELS, registry=CollectorRegistry())
    cs = combos()
    for combo in cs:
        c.labels(*combo)

    def loop(n):
        t0 = cpu()
        for combo in islice(cycle(cs), n):
            c.labels(*combo).inc()
        return cpu() - t0
    per_op_row("labeled_inc", loop, quick)
    return 0


def histogram_observe(quick):
    h = Histogram("bench_request_duration_seconds", "Latency.", buckets=BUCKETS,
                  registry=CollectorRegistry())
    values = fill_values()

    def loop(n):
        t0 = cpu()
        for v in islice(cycle(values), n):
            h.observe(v)
        return cpu() - t0
    per_op_row("histogram_observe", loop, quick)
    return 0


def summary_observe(quick):
    """The Python client's Summary keeps count and sum only (no quantiles),
    so its row has its own name: it is not the same work."""
    sm = Summary("bench_request_duration_seconds", "Latency.", registry=CollectorRegistry())
    values = fill_values()

    def loop(n):
        t0 = cpu()
        for v in islice(cycle(values), n):
            sm.observe(v)
        return cpu() - t0
    per_op_row("summary_count_sum", loop, quick)
    return 0


def contended_inc(quick):
    c = Counter("bench_shared_total", "Two threads.", registry=CollectorRegistry())
    last = [0.0, 0.0]

    def work(k):
        for _ in repeat(None, k):
            c.inc()

    def loop(n):
        wall, last[0], last[1] = two_threads(work, n)
        return wall
    ns, n = measure(loop, quick)
    row("contended_inc", "ns/op/thread", last[0] / n)
    row("contended_inc_mops", "Mops/s", 2 * n / ns * 1e3)
    row("contended_cores", "cpu/wall", last[1])
    return 0


def scrape_registry():
    reg = CollectorRegistry()
    paths = ["/api/v1/route%02d/:id" % p for p in range(50)]

    def label_set(i):
        return METHODS[i % 4], paths[(i // 20) % 50], CODES[(i // 4) % 5]
    for f in range(10):
        c = Counter("bench_app%d_requests_total" % f,
                    "Requests handled, by method, route and status code.", LABELS, registry=reg)
        h = Histogram("bench_app%d_request_duration_seconds" % f,
                      "Request latency, by method, route and status code.", LABELS,
                      buckets=BUCKETS, registry=reg)
        for i in range(1000):
            c.labels(*label_set(i)).inc(1 + ((i * 2654435761) % 2**32 + f) % 1000003)
        for i in range(100):
            child = h.labels(*label_set(i))
            for k in range(16):
                child.observe(0.001 * 20000.0 ** (((k * 7 + i) % 16) / 15))
    return reg


def expose(quick):
    reg = scrape_registry()
    generate_latest(reg)
    scrapes = 0
    t0 = cpu()
    while True:
        size = len(generate_latest(reg))
        scrapes += 1
        d = cpu() - t0
        if quick or (scrapes >= 3 and d >= MEASURE_NS):
            break
    per = d / scrapes
    row("expose", "ms", per / 1e6)
    row("expose_bytes", "bytes", size)
    row("expose_mbps", "MB/s", size / per * 1e3)
    return 0


def memory(quick):
    """Series i: method i%4, path "/u/<i//20>" (a fresh string per series, as
    from a request), code (i//4)%5; each incremented once."""
    n = 2000 if quick else 100000
    handles = [None] * n
    reg = CollectorRegistry()
    c = Counter("bench_created_total", "Series created by the benchmark.", LABELS, registry=reg)
    Counter("bench_warm_total", "Warm.", registry=reg).inc()
    gc.collect()
    rss0 = resident_bytes()
    t0 = cpu()
    for i in range(n):
        handles[i] = c.labels(METHODS[i % 4], "/u/%d" % (i // 20), CODES[(i // 4) % 5])
    d = cpu() - t0
    for h in handles:
        h.inc()
    gc.collect()
    rss1 = resident_bytes()
    row("memory_per_series", "bytes", (rss1 - rss0) / n)
    row("create_series", "ms/100k", d / 1e6 * 100000 / n)
    return 0


def serve(port):
    """Serves the expose registry with the client's own HTTP server on
    127.0.0.1:port until stdin reaches EOF."""
    start_http_server(port, addr="127.0.0.1", registry=scrape_registry())
    print("ready", flush=True)
    sys.stdin.read()
    return 0


WORKLOADS = {
    "ref": ref, "counter_inc": counter_inc, "labeled_inc": labeled_inc,
    "histogram_observe": histogram_observe, "summary_observe": summary_observe,
    "contended_inc": contended_inc,
    "expose": expose, "memory": memory,
}


def main(args):
    if args == ["list"]:
        print("\n".join(WORKLOADS))
        return 0
    if len(args) == 2 and args[0] == "serve" and args[1].isdigit():
        return serve(int(args[1]))
    if len(args) in (2, 3) and args[0] == "run" and args[1] in WORKLOADS:
        if len(args) == 2 or args[2] == "--quick":
            return WORKLOADS[args[1]](len(args) == 3)
    print("usage: bench.py run WORKLOAD [--quick] | serve PORT | list", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
