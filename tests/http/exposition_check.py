"""exposition_check.py - the /metrics of the http_hello example, scraped over
HTTP, passes `promtool check metrics` (exit 0, no lint warnings) in text
0.0.4, and Debian's strict OpenMetrics parser in OpenMetrics 1.0.

Usage: exposition_check.py <path to http_hello>
Exit 0 pass, 1 fail, 77 skip (promtool or prometheus_client missing, not CI).

SPDX-License-Identifier: MIT
"""
import gzip
import shutil
import subprocess
import sys

from hello_service import Hello, skip, wait_until

PROM_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
TEXT_CT = "text/plain; version=0.0.4; charset=utf-8"
OM_CT = "application/openmetrics-text; version=1.0.0; charset=utf-8"

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    promtool = shutil.which("promtool")
    if not promtool:
        skip("promtool is not installed (Debian package prometheus)")
    try:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    except ImportError:
        skip("python3-prometheus-client is not installed")

    svc = Hello(sys.argv[1])
    try:
        # Traffic on every kind of route and status, so each family has series.
        svc.request("GET", "/hello/alice")
        svc.request("GET", "/hello/bob?x=1")
        svc.request("POST", "/echo", body=b"hi")
        svc.request("GET", "/echo")
        svc.request("DELETE", "/hello/x")
        svc.request("GET", "/no/such/page")
        svc.request("BREW", "/hello/pot")

        status, headers, text = svc.request("GET", "/metrics")
        check(status == 200, "GET /metrics answers 200")
        check(headers.get("Content-Type") == TEXT_CT, f"text Content-Type is {TEXT_CT}")
        check(b'route="/hello/:name"' in text, "route templates are label values")
        check(b"alice" not in text and b"/no/such" not in text, "raw paths are not labels")
        res = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, timeout=60
        )
        out = (res.stdout + res.stderr).decode(errors="replace").strip()
        check(res.returncode == 0, f"promtool check metrics exits 0 (got {res.returncode}) {out}")

        # A request is recorded when its completion callback runs, just after
        # the client has its answer: give the last one a moment.
        def scrape_om():
            r = svc.request("GET", "/metrics", headers={"Accept": PROM_ACCEPT})
            return r if b'route="/hello/:name",code="405"' in r[2] else None

        status, headers, om = wait_until(scrape_om, 3) or svc.request(
            "GET", "/metrics", headers={"Accept": PROM_ACCEPT})
        check(status == 200, "OpenMetrics scrape answers 200")
        check(headers.get("Content-Type") == OM_CT, f"OpenMetrics Content-Type is {OM_CT}")
        try:
            families = list(text_string_to_metric_families(om.decode("utf-8")))
            names = {f.name: f for f in families}
            check("http_requests" in names and names["http_requests"].type == "counter",
                  "OpenMetrics: http_requests is a counter family")
            check("http_request_duration_seconds" in names
                  and names["http_request_duration_seconds"].type == "histogram",
                  "OpenMetrics: http_request_duration_seconds is a histogram")
            total = sum(s.value for s in names["http_requests"].samples
                        if s.name == "http_requests_total" and s.labels["route"] != "/metrics")
            check(total == 7, f"OpenMetrics: 7 requests counted (got {total})")
            check(True, f"strict OpenMetrics parser read {len(families)} families")
        except Exception as e:  # the parser raises ValueError on any defect
            check(False, f"strict OpenMetrics parser: {e!r}")

        status, headers, gz = svc.request(
            "GET", "/metrics", headers={"Accept": PROM_ACCEPT, "Accept-Encoding": "gzip"}
        )
        check(headers.get("Content-Encoding") == "gzip", "gzip asked, gzip sent")
        try:
            families = list(text_string_to_metric_families(gzip.decompress(gz).decode()))
            check(len(families) > 0, "gzipped OpenMetrics parses strictly")
        except Exception as e:
            check(False, f"gzipped OpenMetrics: {e!r}")
    finally:
        svc.stop()
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
