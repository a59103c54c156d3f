#!/usr/bin/python3
"""smoke.py - run vitals-bench in quick mode and check its JSON report.

Checks that the output is exactly one JSON array, that every expected row is
there once with numeric median/min/max, and that every median is positive.
Prints "N passed, N failed" like the C tests and exits non-zero on failure.

SPDX-License-Identifier: MIT
"""
import json
import subprocess
import sys

EXPECTED = [
    "ref_plain_inc", "ref_atomic_fetch_add", "ref_atomic_contended",
    "counter_inc", "counter_add", "histogram_observe", "native_observe",
    "summary_quantile_observe", "gauge_set", "gauge_inc",
    "contended_inc", "contended_inc_ratio", "contended_cpu_share", "labeled_inc",
    "expose_text", "expose_text_bytes", "expose_text_mbps",
    "expose_text_buf", "expose_text_buf_mbps",
    "expose_openmetrics", "expose_openmetrics_bytes", "expose_openmetrics_mbps",
    "create_series", "memory_per_series", "run_cpu_share",
]


def main():
    if len(sys.argv) != 2:
        print("usage: smoke.py path/to/vitals-bench", file=sys.stderr)
        return 2
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what, file=sys.stderr)

    proc = subprocess.run([sys.argv[1], "--repeats", "1", "--quick", "--json"],
                          capture_output=True, text=True, timeout=50)
    check(proc.returncode == 0, "exit code %d, stderr: %s" % (proc.returncode, proc.stderr))
    try:
        rows = json.loads(proc.stdout)
    except ValueError as e:
        rows = None
        check(False, "output is not JSON (%s): %r" % (e, proc.stdout[:200]))
    if rows is not None:
        check(isinstance(rows, list), "output is not a JSON array")
        rows = rows if isinstance(rows, list) else []
        by_name = {}
        for row in rows:
            ok = isinstance(row, dict) and isinstance(row.get("name"), str) and \
                isinstance(row.get("unit"), str) and \
                all(isinstance(row.get(k), (int, float)) for k in ("median", "min", "max"))
            check(ok, "malformed row %r" % (row,))
            if ok:
                check(row["name"] not in by_name, "row %s appears twice" % row["name"])
                by_name[row["name"]] = row
        for name in EXPECTED:
            check(name in by_name, "row %s is missing" % name)
        for name, row in by_name.items():
            check(row["median"] > 0, "row %s has median %r" % (name, row["median"]))
            check(row["min"] <= row["median"] <= row["max"], "row %s: min/median/max out of order"
                  % name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
