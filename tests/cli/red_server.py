#!/usr/bin/env python3
"""red_server.py - a synthetic service exposition with known RED figures, for the `vitals top` tests.

Usage: red_server.py PORT [--routes N] [--format text|openmetrics]

GET /metrics answers http_requests_total{method,route,code} and the
histogram http_request_duration_seconds (buckets .005 .01 .025 .05 .1 .25
.5 1 2.5 5 10) whose values grow with the time since the server started, so
that between any two scrapes each route's rate, error ratio and latency
quantiles are the ones set below (up to the rounding of counts to whole
requests), plus process_* saturation metrics and an in-flight gauge.

Without --routes the routes are four fixed ones:
  GET  /api/users    50 req/s, no errors, every request in (0.005, 0.01]
  POST /api/orders   20 req/s, 10% answered 500, all in (0.025, 0.05]
  GET  /api/slow      5 req/s, no errors, all in (0.5, 1]
  GET  /health        1 req/s, no errors, all in (0, 0.005]
With --routes N (for benchmarks) the routes are /r/0 ... /r/N-1 with two
codes each (200 and 500), 15 series per route and code: N = 333 gives
about 10,000 series.

GET /mode/ok, /mode/500 and /mode/garbage switch what /metrics answers:
the exposition, HTTP 500, or text that does not parse at line 3.
Stopped by the test with SIGTERM.

SPDX-License-Identifier: MIT
"""
import http.server
import os
import sys
import threading
import time

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

# (method, route, rate per second, error share, bucket index of every request)
FIXED = [
    ("GET", "/api/users", 50.0, 0.0, 1),
    ("POST", "/api/orders", 20.0, 0.1, 3),
    ("GET", "/api/slow", 5.0, 0.0, 7),
    ("GET", "/health", 1.0, 0.0, 0),
]


def fmt_le(b):
    return repr(float(b))  # "0.005", "1.0": valid in both formats


def exposition(routes, started, om):
    elapsed = time.monotonic() - started
    out = []
    counter = "http_requests" if om else "http_requests_total"
    out.append("# HELP %s Requests by method, route and code.\n" % counter)
    out.append("# TYPE %s counter\n" % counter)
    hist = []
    for method, route, rate, err, bucket in routes:
        total = int(rate * elapsed)
        errors = int(rate * err * elapsed)
        for code, n in (("200", total - errors), ("500", errors)):
            if n == 0 and code == "500" and err == 0 and routes is FIXED:
                continue
            labels = 'method="%s",route="%s",code="%s"' % (method, route, code)
            out.append("http_requests_total{%s} %d\n" % (labels, n))
            for i, b in enumerate(BOUNDS):
                hist.append('http_request_duration_seconds_bucket{%s,le="%s"} %d\n'
                            % (labels, fmt_le(b), n if i >= bucket else 0))
            hist.append('http_request_duration_seconds_bucket{%s,le="+Inf"} %d\n' % (labels, n))
            mid = BOUNDS[bucket] * 0.75
            hist.append("http_request_duration_seconds_sum{%s} %r\n" % (labels, n * mid))
            hist.append("http_request_duration_seconds_count{%s} %d\n" % (labels, n))
    out.append("# HELP http_request_duration_seconds Request duration.\n")
    out.append("# TYPE http_request_duration_seconds histogram\n")
    out.extend(hist)
    cpu = "process_cpu_seconds" if om else "process_cpu_seconds_total"
    out.append("# HELP %s CPU time.\n# TYPE %s counter\n" % (cpu, cpu))
    out.append("process_cpu_seconds_total %r\n" % (0.25 * elapsed))
    out.append("# HELP process_resident_memory_bytes Resident memory.\n"
               "# TYPE process_resident_memory_bytes gauge\n"
               "process_resident_memory_bytes 12582912\n")
    out.append("# HELP process_open_fds Open fds.\n# TYPE process_open_fds gauge\n"
               "process_open_fds 17\n")
    out.append("# HELP process_max_fds Max fds.\n# TYPE process_max_fds gauge\n"
               "process_max_fds 1024\n")
    out.append("# HELP http_requests_in_flight In flight.\n# TYPE http_requests_in_flight gauge\n"
               "http_requests_in_flight 3\n")
    if om:
        out.append("# EOF\n")
    return "".join(out).encode()


def main():
    port = int(sys.argv[1])
    args = sys.argv[2:]
    om = False
    routes = FIXED
    while args:
        a = args.pop(0)
        if a == "--routes":
            n = int(args.pop(0))
            routes = [("GET", "/r/%d" % i, 1.0 + i % 50, 0.02, i % 11) for i in range(n)]
        elif a == "--format":
            om = args.pop(0) == "openmetrics"
        else:
            sys.exit("unknown argument " + a)
    started = time.monotonic()
    state = {"mode": "ok"}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, code, body, ctype="text/plain; charset=utf-8"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.startswith("/mode/"):
                with lock:
                    state["mode"] = self.path[6:]
                self.answer(200, b"ok\n")
                return
            if self.path != "/metrics":
                self.answer(404, b"not found\n")
                return
            with lock:
                mode = state["mode"]
            if mode == "500":
                self.answer(500, b"broken\n")
            elif mode == "garbage":
                self.answer(200, b"# HELP x A gauge.\n# TYPE x gauge\nx{ 1\n")
            elif om:
                self.answer(200, exposition(routes, started, True),
                            "application/openmetrics-text; version=1.0.0; charset=utf-8")
            else:
                self.answer(200, exposition(routes, started, False),
                            "text/plain; version=0.0.4; charset=utf-8")

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", os.getpid(), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
