"""prometheus_proto.py - a real Prometheus (2.42,
--enable-feature=exemplar-storage,native-histograms)
scrapes proto_service over delimited protobuf, and its API must return the
values the service recorded: a counter (also with quotes, a backslash, a
newline and UTF-8 in a label value), a gauge, an info, summary quantiles,
histogram_quantile over the classic buckets in the expected bucket, and
histogram_quantile(0.9, rate(x[1m])) over a native histogram (schema 3)
within the schema's relative error of the true 0.9 quantile of the values the
service keeps observing; and /api/v1/query_exemplars returns the exemplars of
a counter, a classic bucket and a native histogram with their labels, values
and timestamps.

Prometheus scrapes the service through a small recording proxy in this script,
which forwards each request unchanged and keeps the Accept header Prometheus
sent and the Content-Type the service answered: that proves the scrapes really
were protobuf, negotiated from Prometheus's own header.

Usage: prometheus_proto.py <path to proto_service>
Exit 0 pass, 1 fail, 77 skip (prometheus not installed, outside CI).
Everything listens on 127.0.0.1 on free ports; Prometheus keeps its TSDB in a
temporary directory; every process is stopped by pid.

SPDX-License-Identifier: MIT
"""
import http.client
import http.server
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from promtest import api, query, start, stop  # noqa: E402

PROTOBUF = ("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
            "encoding=delimited")

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def skip(reason):
    """Exit 77 (skipped), or 1 when CI is set: CI installs every prerequisite."""
    if os.environ.get("CI"):
        print(f"FAIL (prerequisite missing under CI): {reason}")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(77)


def wait_until(pred, timeout, step=0.25):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


class Recorder(http.server.ThreadingHTTPServer):
    """Forwards GET requests to the service; keeps (Accept, Content-Type)."""

    daemon_threads = True

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.seen = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), RecorderHandler)


class RecorderHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=10)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("accept", "accept-encoding", "user-agent")}
        conn.request("GET", self.path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        with self.server.lock:
            self.server.seen.append((self.headers.get("Accept", ""),
                                     r.getheader("Content-Type", "")))
        self.send_response(r.status)
        for k in ("Content-Type", "Content-Encoding", "Vary"):
            if r.getheader(k):
                self.send_header(k, r.getheader(k))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        conn.close()

    def log_message(self, *args):
        pass


def scalar(prom_port, q):
    res = query(prom_port, q)
    if not res:
        return float("nan")
    return float(res[0]["value"][1])


def target_up(prom_port):
    d = api(prom_port, "/api/v1/targets")
    try:
        return d["data"]["activeTargets"][0]["health"] == "up"
    except (TypeError, KeyError, IndexError):
        return False


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    prometheus = shutil.which("prometheus")
    if not prometheus:
        skip("prometheus is not installed (Debian package prometheus)")

    tmp = tempfile.mkdtemp(prefix="vt-proto-prom-")
    svc = prom = recorder = None
    try:
        started = time.time()
        svc = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
        line = svc.stdout.readline()
        if not line.startswith("port "):
            check(False, f"proto_service printed its port (got {line!r})")
            return 1
        recorder = Recorder(int(line.split()[1]))
        threading.Thread(target=recorder.serve_forever, daemon=True).start()

        prom, prom_port = start(prometheus, tmp, "proto", recorder.server_address[1],
                                "--enable-feature=exemplar-storage,native-histograms")
        check(bool(wait_until(lambda: target_up(prom_port), 60)), "the target is up")
        check(bool(wait_until(lambda: query(prom_port, "orders_total"), 30)),
              "orders_total is in the TSDB")

        with recorder.lock:
            seen = list(recorder.seen)
        check(len(seen) >= 1, f"Prometheus scraped through the recorder ({len(seen)} scrapes)")
        check(all(a.startswith("application/vnd.google.protobuf") for a, _ in seen),
              f"Prometheus asked for protobuf first: {seen[0][0] if seen else None!r}")
        check(all(ct == PROTOBUF for _, ct in seen),
              f"every answer was delimited protobuf: {sorted(set(ct for _, ct in seen))}")

        res = query(prom_port, "orders_total") or []
        got = {r["metric"].get("shop"): float(r["value"][1]) for r in res}
        check(got == {"north": 42.0, "s\"\u00fc\\\n": 7.5},
              f"orders_total by shop, labels unescaped: {got}")
        check(all(r["metric"].get("job") == "proto" for r in res), "target labels attached")

        check(scalar(prom_port, "queue_depth") == -3.25, "queue_depth == -3.25")
        check(scalar(prom_port, 'build_info{version="1.2.3"}') == 1, "build_info == 1")

        q50 = scalar(prom_port, 'rpc_seconds{quantile="0.5"}')
        q90 = scalar(prom_port, 'rpc_seconds{quantile="0.9"}')
        # The sketch's bound: 1% of the exact order statistic.
        check(abs(q50 - 50) <= 0.5 * 1.001 and abs(q90 - 90) <= 0.9 * 1.001,
              f"summary quantiles 0.5 -> {q50}, 0.9 -> {q90}")
        check(scalar(prom_port, "rpc_seconds_count") == 100, "rpc_seconds_count == 100")
        check(scalar(prom_port, "rpc_seconds_sum") == 5050, "rpc_seconds_sum == 5050")

        check(scalar(prom_port, "wait_seconds_count") == 10, "wait_seconds_count == 10")
        check(abs(scalar(prom_port, "wait_seconds_sum") - 7.55) < 1e-9,
              "wait_seconds_sum == 7.55")
        inf = scalar(prom_port, 'wait_seconds_bucket{le="+Inf"}')
        check(inf == 10, f"the +Inf bucket Prometheus adds equals the count ({inf})")
        le = scalar(prom_port, 'wait_seconds_bucket{le="0.5"}')
        check(le == 7, f"wait_seconds_bucket{{le=\"0.5\"}} == 7 ({le})")
        med = scalar(prom_port, "histogram_quantile(0.5, wait_seconds_bucket)")
        check(0.25 < med <= 0.5, f"histogram_quantile(0.5) = {med} is in (0.25, 0.5]")
        p90 = scalar(prom_port, "histogram_quantile(0.9, wait_seconds_bucket)")
        check(1 < p90 <= 2.5, f"histogram_quantile(0.9) = {p90} is in (1, 2.5]")
        check(not math.isnan(p90), "quantiles are numbers")

        check(scalar(prom_port, "payload_bytes_count") == 2 and
              scalar(prom_port, "payload_bytes_sum") == 400,
              "a summary without quantiles: count 2, sum 400")
        check(scalar(prom_port, "busy_seconds_total") == 1.5, "busy_seconds_total == 1.5")
        # The native histogram: schema 3 buckets grow by 2^(1/8), so any value
        # in the bucket of the true quantile is within 2^(1/8) - 1 of it.
        batch = sorted(0.001 * 2 ** (k / 10) for k in range(100))
        true_q = batch[math.ceil(0.9 * len(batch)) - 1]
        bound = 2 ** (2 ** -3) - 1
        res = query(prom_port, "request_seconds") or []
        check(len(res) == 1 and "histogram" in res[0],
              f"request_seconds is stored as a native histogram: {str(res)[:200]}")
        check(not query(prom_port, "request_seconds_bucket"), "no classic buckets for it")

        def native_q():
            v = scalar(prom_port, "histogram_quantile(0.9, rate(request_seconds[1m]))")
            return v if not math.isnan(v) else None
        est = wait_until(native_q, 30)
        err = abs(est - true_q) / true_q if est else float("inf")
        check(err <= bound, f"histogram_quantile(0.9, rate(request_seconds[1m])) = {est} "
                            f"is within {bound:.4f} of the true {true_q:.6f} (error {err:.4f})")

        # Classic and native buckets in one histogram: the native one is
        # stored; whether the classic series are too depends on the version
        # (2.42 keeps only the native one; later ones can keep both).
        res = query(prom_port, "both_seconds") or []
        check(len(res) == 1 and "histogram" in res[0] and res[0]["histogram"][1]["count"] == "10",
              f"both_seconds is stored as a native histogram of 10: {str(res)[:160]}")
        classic = query(prom_port, "both_seconds_bucket") or []
        print(f"note both_seconds: {len(classic)} classic bucket series stored by this Prometheus")

        # Exemplars travel in the protobuf messages: Prometheus stores them.
        def exemplars(q):
            d = api(prom_port, "/api/v1/query_exemplars", query=q,
                    start=f"{time.time() - 600:.3f}", end=f"{time.time() + 60:.3f}")
            if not d or d.get("status") != "success":
                return None
            got = [(e["labels"], float(e["value"]), float(e["timestamp"]))
                   for s in d["data"] for e in s["exemplars"]]
            return got or None
        for q, trace, value in (('orders_total{shop="north"}', "ord-1", 2.0),
                                ("wait_seconds_bucket", "wait-1", 2.4),
                                ("traced_seconds", "native-1", 0.3)):
            got = wait_until(lambda: exemplars(q), 15) or []
            check(len(got) == 1 and got[0][0] == {"trace_id": trace} and got[0][1] == value
                  and started - 5 <= got[0][2] <= time.time() + 1,
                  f"query_exemplars({q}) returns trace_id {trace}, value {value}: {got}")

        meta = (api(prom_port, "/api/v1/metadata", metric="orders_total") or {}).get("data", {})
        entry = (meta.get("orders_total") or [{}])[0]
        check(entry.get("type") == "counter" and entry.get("help") == "Orders taken.",
              f"metadata of orders_total: {entry}")
    finally:
        stop(prom)
        if recorder:
            recorder.shutdown()
            recorder.server_close()
        if svc:
            if svc.stdin:
                svc.stdin.close()
            stop(svc)
            if svc.stdout:
                svc.stdout.close()
        if failures and os.path.exists(os.path.join(tmp, "prometheus.log")):
            with open(os.path.join(tmp, "prometheus.log")) as f:
                print("--- prometheus.log (tail)\n" + "".join(f.readlines()[-20:]))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
