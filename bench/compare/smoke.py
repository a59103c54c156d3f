#!/usr/bin/python3
"""smoke.py - run bench/compare/run.py in quick mode on vitals alone and check
the table and the JSON it writes (the bench-compare-smoke test).

Needs no Go and no Python client. Needs wrk for the scrape_http rows: without
it the test is skipped (exit 77) on a developer's machine and fails when CI is
set. Prints "N passed, N failed" like the C tests.

SPDX-License-Identifier: MIT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = ["ref_plain_inc", "ref_atomic_inc", "ref_atomic_contended", "counter_inc",
        "labeled_inc", "histogram_observe", "summary_observe", "contended_inc",
        "contended_inc_mops",
        "contended_cores", "expose", "expose_bytes", "expose_mbps", "memory_per_series",
        "create_series", "scrape_http_rps", "scrape_http_p99", "scrape_http_errors"]


def main():
    if len(sys.argv) != 2:
        print("usage: smoke.py path/to/vitals-compare", file=sys.stderr)
        return 2
    if not shutil.which("wrk"):
        print("SKIP: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1 if os.environ.get("CI") else 77
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what, file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "compare.json")
        proc = subprocess.run(
            [sys.executable, os.path.join(HERE, "run.py"), "--quick", "--repeats", "1",
             "--libs", "vitals", "--vitals-bin", sys.argv[1], "--no-install",
             "--build-dir", tmp, "--json-out", out],
            capture_output=True, text=True, timeout=110)
        check(proc.returncode == 0, "exit code %d, stderr: %s" % (proc.returncode, proc.stderr))
        lines = proc.stdout.splitlines()
        check(any(line.split()[:4] == ["row", "unit", "lib", "median"] for line in lines if line),
              "no table header in %r" % proc.stdout[:300])
        for name in ROWS:
            check(any(f[0] == name and f[2] == "vitals"
                      for f in (line.split() for line in lines) if len(f) >= 4),
                  "table has no vitals line for " + name)
        try:
            with open(out) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            doc = {}
            check(False, "JSON output: %s" % e)
        rows = {r.get("name"): r for r in doc.get("rows", [])}
        check(doc.get("failures") == [], "failures: %r" % doc.get("failures"))
        for name in ROWS:
            v = rows.get(name, {}).get("libs", {}).get("vitals", {})
            if name == "scrape_http_errors":
                check(v.get("median") == 0, "scrape_http_errors is %r" % v.get("median"))
            else:
                check(isinstance(v.get("median"), (int, float)) and v["median"] > 0,
                      "%s: median %r" % (name, v.get("median")))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
