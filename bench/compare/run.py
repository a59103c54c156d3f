#!/usr/bin/python3
"""run.py - vitals beside client_golang, VictoriaMetrics/metrics and the Python
client on the same workloads (make bench-compare); see README.md here.

Installs the missing Debian packages the chosen libraries need (apt-get, via
sudo when not root, only when something is missing), builds the harnesses,
then runs each workload of each library in a fresh process, interleaved
library by library (A B C D A B C D ...) for REPEATS rounds, so that load from
elsewhere on the machine falls on all of them alike. Prints one table of
medians, min-max and ratios to vitals, checks the project's bars, and writes
everything as JSON (default $BUILD_DIR/bench-compare.json).

Servers of the scrape_http workload listen on 127.0.0.1 only and are stopped
by closing their stdin, then by their pid.

SPDX-License-Identifier: MIT
"""
import argparse
import json
import os
import platform
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

LIBS = ["vitals", "client_golang", "vm_metrics", "prometheus_client"]
WORKLOADS = ["ref", "counter_inc", "labeled_inc", "histogram_observe", "summary_observe",
             "contended_inc", "expose", "memory", "scrape_http"]
PACKAGES = {
    "client_golang": ["golang-go", "golang-github-prometheus-client-golang-dev"],
    "vm_metrics": ["golang-go", "golang-github-victoriametrics-metrics-dev"],
    "prometheus_client": ["python3-prometheus-client"],
}
GO_DIRS = {"client_golang": "client_golang", "vm_metrics": "vm"}

# Rows in print order: name, unit, which way is better (None: no ratio).
ROWS = [
    ("ref_plain_inc", "ns/op", None), ("ref_atomic_inc", "ns/op", None),
    ("ref_atomic_contended", "ns/op/thread", None),
    ("counter_inc", "ns/op", "lower"), ("labeled_inc", "ns/op", "lower"),
    ("histogram_observe", "ns/op", "lower"),
    ("summary_observe", "ns/op", "lower"),
    # The Python client's Summary has no quantiles: not comparable, no ratio.
    ("summary_count_sum", "ns/op", None),
    ("contended_inc", "ns/op/thread", "lower"), ("contended_inc_mops", "Mops/s", "higher"),
    ("contended_cores", "cpu/wall", None),
    ("contended_inc_2cores", "ns/op/thread", "lower"),
    ("expose", "ms", "lower"), ("expose_bytes", "bytes", None), ("expose_mbps", "MB/s", "higher"),
    ("memory_per_series", "bytes", "lower"), ("create_series", "ms/100k", "lower"),
    ("scrape_http_rps", "req/s", "higher"), ("scrape_http_p99", "ms", "lower"),
    ("scrape_http_errors", "count", None),
]
ROW_INFO = {name: (unit, better) for name, unit, better in ROWS}
# The project's bars: vitals' median at least this many times better than the
# peer's (client_golang: the client most C and Go services would compare with).
# contended_inc means two threads running at once. A run whose process had
# less than this many cores on average (CPU time over wall time) mostly took
# turns; contended_inc_2cores keeps only the other runs, and the contention
# bars are judged on it. The Python client is exempt: its threads always take
# turns (the GIL).
MIN_CONTENDED_CORES = 1.5
RATIO_BARS = [("counter_inc", "client_golang", 2.0), ("histogram_observe", "client_golang", 3.0),
              ("contended_inc_2cores", "client_golang", 10.0),
              ("labeled_inc", "client_golang", 4.0),
              ("expose", "client_golang", 5.0)]


def say(msg):
    print("bench-compare: " + msg, file=sys.stderr, flush=True)


# ---- packages -------------------------------------------------------------

def missing_packages(pkgs):
    """The packages of pkgs that dpkg does not list as installed."""
    if not shutil.which("dpkg"):
        return list(pkgs)
    out = subprocess.run(["dpkg", "-s"] + list(pkgs), capture_output=True, text=True).stdout
    installed, pkg = set(), None
    for line in out.splitlines():
        if line.startswith("Package: "):
            pkg = line.split()[1]
        elif line.startswith("Status: install ok installed") and pkg:
            installed.add(pkg)
    return [p for p in pkgs if p not in installed]


def ensure_packages(pkgs):
    need = missing_packages(sorted(set(pkgs)))
    if not need:
        return
    if not shutil.which("apt-get"):
        sys.exit("bench-compare: apt-get is not available; install: " + " ".join(need))
    sudo = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            sys.exit("bench-compare: not root and no sudo; as root run: apt-get install "
                     + " ".join(need))
        sudo = ["sudo"]
    say("installing: " + " ".join(need))
    env = ["env", "DEBIAN_FRONTEND=noninteractive"]
    subprocess.run(sudo + env + ["apt-get", "update", "-q"], check=True)
    subprocess.run(sudo + env + ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
                   + need, check=True)
    still = missing_packages(need)
    if still:
        sys.exit("bench-compare: still missing after apt-get: " + " ".join(still))


# ---- building -------------------------------------------------------------

def build_vitals(build_dir, jobs):
    tree = os.path.join(build_dir, "release")
    subprocess.run(["cmake", "--preset", "release", "-B", tree], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", tree, "-j", str(jobs), "--target", "vitals-compare"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return [os.path.join(tree, "bench", "compare", "vitals-compare")]


def go_env(out_dir):
    env = dict(os.environ)
    # GOPATH mode over Debian's Go source tree: no module download, no network.
    env.update(GO111MODULE="off", GOPATH="/usr/share/gocode", GOPROXY="off", GOFLAGS="",
               GOCACHE=os.path.join(out_dir, "go-cache"))
    return env


def build_go(lib, out_dir):
    exe = os.path.join(out_dir, lib + "-compare")
    src = os.path.join(HERE, "go", GO_DIRS[lib])
    subprocess.run(["go", "build", "-o", exe, "main.go"], cwd=src, env=go_env(out_dir),
                   check=True)
    return [exe]


def python_cmd():
    subprocess.run([PYTHON, "-c", "import prometheus_client"], check=True)
    return [PYTHON, os.path.join(HERE, "python", "bench.py")]


# ---- running --------------------------------------------------------------

class Results:
    """Values per (row, lib) over the rounds, pending reasons and failures."""

    def __init__(self):
        self.values = {}
        self.pending = {}
        self.failures = []

    def add(self, r, lib):
        if r.get("lib") != lib or r.get("name") not in ROW_INFO:
            raise ValueError("unexpected row %r" % (r,))
        key = (r["name"], lib)
        if r.get("value") is None:
            self.pending[key] = r.get("pending", "pending")
        else:
            self.values.setdefault(key, []).append(float(r["value"]))

    def fail(self, lib, workload, why):
        say("%s %s failed: %s" % (lib, workload, why))
        self.failures.append({"lib": lib, "workload": workload, "error": why})


def run_workload(cmd, lib, workload, quick, res):
    args = cmd + ["run", workload] + (["--quick"] if quick else [])
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return res.fail(lib, workload, "timed out")
    if p.returncode != 0:
        return res.fail(lib, workload, "exit %d: %s" % (p.returncode, p.stderr.strip()[-500:]))
    try:
        rows = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
        if not rows:
            raise ValueError("no rows in %r" % p.stdout[:200])
        for r in rows:
            res.add(r, lib)
        # contended_inc_2cores: contended_inc of the runs where the two threads
        # really ran at once (the Python client's never do: the GIL).
        by = {r["name"]: r["value"] for r in rows}
        if by.get("contended_cores", 0) >= MIN_CONTENDED_CORES and "contended_inc" in by:
            res.add({"lib": lib, "name": "contended_inc_2cores", "value": by["contended_inc"]},
                    lib)
    except ValueError as e:
        res.fail(lib, workload, str(e))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError("latency %r" % text)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]


def parse_wrk(out):
    """(requests per second, p99 ms, errors) from wrk --latency output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if not rps or not p99:
        raise ValueError("unexpected wrk output: %r" % out[-400:])
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(g) for g in m.groups())
    return float(rps.group(1)), wrk_ms(p99.group(1)), errors


def stop_server(proc):
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_line(proc, timeout):
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    ready = sel.select(timeout)
    sel.close()
    return proc.stdout.readline().strip() if ready else ""


def run_scrape_http(cmd, lib, quick, res):
    if not shutil.which("wrk"):
        for name in ("scrape_http_rps", "scrape_http_p99"):
            res.pending[(name, lib)] = "wrk is not installed"
        return
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(cmd + ["serve", str(port)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            line = read_line(proc, 120)
            if line.startswith("pending"):
                for name in ("scrape_http_rps", "scrape_http_p99"):
                    res.pending[(name, lib)] = line.partition(":")[2].strip() or line
                return
            if line != "ready":
                err.seek(0)
                return res.fail(lib, "scrape_http", "server did not start: %r %s"
                                % (line, err.read().strip()[-300:]))
            url = "http://127.0.0.1:%d/metrics" % port
            with urllib.request.urlopen(url, timeout=60) as r:
                body = r.read()
                if r.status != 200 or b"bench_app9_request_duration_seconds" not in body:
                    return res.fail(lib, "scrape_http", "unexpected /metrics answer")
            load = ["-t1", "-c2", "-d1s"] if quick else ["-t2", "-c16", "-d5s"]
            w = subprocess.run(["wrk"] + load + ["--latency", "--timeout", "30s", url],
                               capture_output=True, text=True, timeout=120)
            if w.returncode != 0:
                return res.fail(lib, "scrape_http", "wrk: " + w.stderr.strip())
            rps, p99, errors = parse_wrk(w.stdout)
            for name, value in (("scrape_http_rps", rps), ("scrape_http_p99", p99),
                                ("scrape_http_errors", errors)):
                res.add({"lib": lib, "name": name, "value": value}, lib)
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            res.fail(lib, "scrape_http", str(e))
        finally:
            stop_server(proc)


# ---- reporting ------------------------------------------------------------

def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 10000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


def advantage(better, vitals, peer):
    """How many times better vitals' median is than the peer's."""
    if not better or vitals is None or peer is None or vitals <= 0 or peer <= 0:
        return None
    return peer / vitals if better == "lower" else vitals / peer


def summarize(res, libs):
    rows = []
    for name, unit, better in ROWS:
        entry = {"name": name, "unit": unit, "better": better, "libs": {}}
        for lib in libs:
            vals = res.values.get((name, lib))
            if vals:
                entry["libs"][lib] = {"median": statistics.median(vals), "min": min(vals),
                                      "max": max(vals), "values": vals}
            elif (name, lib) in res.pending:
                entry["libs"][lib] = {"pending": res.pending[(name, lib)]}
        v = entry["libs"].get("vitals", {}).get("median")
        for lib, d in entry["libs"].items():
            if lib != "vitals" and "median" in d:
                d["vitals_advantage"] = advantage(better, v, d["median"])
        if entry["libs"]:
            rows.append(entry)
    return rows


MIN_ROUNDS_2CORES = 3


def overlap_problem(by_name, libs):
    """Why contended_inc_2cores cannot be judged for these libraries, or None."""
    row = by_name.get("contended_inc_2cores", {}).get("libs", {})
    few = ["%s %d" % (lib, len(row.get(lib, {}).get("values", []))) for lib in libs
           if lib != "prometheus_client"
           and len(row.get(lib, {}).get("values", [])) < MIN_ROUNDS_2CORES]
    if not few:
        return None
    return "too few rounds with both threads running (%s < %d; raise REPEATS)" % (
        ", ".join(few), MIN_ROUNDS_2CORES)


def check_bars(rows):
    """The project's bars, judged on medians: [{what, got, need, met, unjudged}].
    Rates derived from a time row (Mops/s, MB/s) repeat that row and are
    skipped."""
    bars, by_name = [], {r["name"]: r for r in rows}

    def add(name, what, adv, need, libs):
        bar = {"what": what, "got": adv, "need": need, "met": adv >= need if need > 1
               else adv > need, "unjudged": None}
        if name == "contended_inc_2cores":
            bar["unjudged"] = overlap_problem(by_name, ["vitals"] + libs)
        bars.append(bar)

    for r in rows:
        if not r["better"] or r["name"] in ("contended_inc_mops", "expose_mbps"):
            continue
        advs = [(d["vitals_advantage"], lib) for lib, d in r["libs"].items()
                if d.get("vitals_advantage") is not None]
        if advs:
            adv, lib = min(advs)
            add(r["name"], "%s: vitals ahead of every peer (closest: %s)" % (r["name"], lib),
                adv, 1.0, [lib for _, lib in advs])
    for name, peer, need in RATIO_BARS:
        adv = by_name.get(name, {}).get("libs", {}).get(peer, {}).get("vitals_advantage")
        what = "%s: vitals >= %gx %s" % (name, need, peer)
        if adv is not None:
            add(name, what, adv, need, [peer])
        elif name == "contended_inc_2cores" and peer in by_name.get(
                "contended_cores", {}).get("libs", {}):
            bars.append({"what": what, "got": None, "need": need, "met": False,
                         "unjudged": overlap_problem(by_name, ["vitals", peer])})
    return bars


def print_table(rows, bars, meta):
    print("vitals beside other Prometheus clients: %d round%s%s, fresh process per run"
          % (meta["repeats"], "" if meta["repeats"] == 1 else "s",
             " (quick mode: numbers are meaningless)" if meta["quick"] else ""))
    print("machine: %s, %s cores; load average %s at start, %s at end"
          % (meta["machine"]["cpu"], meta["machine"]["cores"], meta["load_start"],
             meta["load_end"]))
    print("vs vitals: how many times better vitals' median is (peer/vitals for time and "
          "memory,\nvitals/peer for rates); below 1 the peer is better. n=K: only K rounds "
          "count\n(contended_inc_2cores: the runs whose two threads ran at once, "
          "contended_cores >= %g).\n" % MIN_CONTENDED_CORES)
    print("%-20s %-12s %-17s %11s %23s %9s" % ("row", "unit", "lib", "median", "min - max",
                                               "vs vitals"))
    for r in rows:
        first = True
        for lib in LIBS:
            d = r["libs"].get(lib)
            if d is None:
                continue
            head = (r["name"], r["unit"]) if first else ("", "")
            first = False
            if "pending" in d:
                print("%-20s %-12s %-17s %11s   %s" % (head + (lib, "pending", d["pending"])))
                continue
            adv = d.get("vitals_advantage")
            n = len(d["values"])
            print("%-20s %-12s %-17s %11s %23s %9s"
                  % (head + (lib if n == meta["repeats"] else "%s n=%d" % (lib, n),
                             fmt(d["median"]), fmt(d["min"]) + " - " + fmt(d["max"]),
                             "" if adv is None else "%.2fx" % adv)))
    if bars:
        print("\nbars (medians of this run):")
        for b in bars:
            verdict = "met" if b["met"] else "MISSED (bar %gx)" % b["need"]
            if b["unjudged"]:
                verdict = "not judged: " + b["unjudged"]
            got = "-" if b["got"] is None else "%.2fx" % b["got"]
            print("  %-62s %8s  %s" % (b["what"], got, verdict))


def print_markdown(doc):
    """A saved run as Markdown (for BENCHMARKS.md): one line per row, one
    column per library holding median (min–max), and for a peer how many times
    better vitals is; then the bars."""
    libs = [lib for lib in LIBS if lib in doc["libs"]]
    print("| row | unit | " + " | ".join(libs) + " |")
    print("|---|---|" + "---:|" * len(libs))
    for r in doc["rows"]:
        cells = []
        for lib in libs:
            d = r["libs"].get(lib)
            if d is None:
                cells.append("")
            elif "pending" in d:
                cells.append("pending: " + d["pending"])
            else:
                cell = fmt(d["median"])
                if d["min"] != d["max"]:
                    cell += " (%s–%s)" % (fmt(d["min"]), fmt(d["max"]))
                if len(d["values"]) != doc["repeats"]:
                    cell += " n=%d" % len(d["values"])
                if d.get("vitals_advantage") is not None:
                    cell += " **%.1f×**" % d["vitals_advantage"]
                cells.append(cell)
        print("| `%s` | %s | %s |" % (r["name"], r["unit"], " | ".join(cells)))
    print()
    for b in doc["bars"]:
        verdict = "met" if b["met"] else "**missed** (bar %g×)" % b["need"]
        if b.get("unjudged"):
            verdict = "not judged: " + b["unjudged"]
        got = "–" if b["got"] is None else "%.2f×" % b["got"]
        print("- %s: %s, %s" % (b["what"], got, verdict))


def versions(libs):
    out = {}
    pkgs = {"client_golang": "golang-github-prometheus-client-golang-dev",
            "vm_metrics": "golang-github-victoriametrics-metrics-dev",
            "prometheus_client": "python3-prometheus-client"}
    for lib in libs:
        if lib in pkgs:
            p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkgs[lib]],
                               capture_output=True, text=True)
            out[lib] = p.stdout.strip() or "?"
    m = re.search(r'VT_VERSION_STRING\s+"([^"]+)"',
                  open(os.path.join(ROOT, "include", "vitals", "version.h")).read())
    out["vitals"] = m.group(1) if m else "?"
    if "prometheus_client" in libs:
        out["python"] = subprocess.run([PYTHON, "--version"], capture_output=True,
                                       text=True).stdout.strip()
    if shutil.which("go") and any(lib in GO_DIRS for lib in libs):
        out["go"] = subprocess.run(["go", "version"], capture_output=True,
                                   text=True).stdout.strip()
    return out


def machine():
    cpu = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}


def load_avg():
    return "%.2f" % os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser(description="vitals beside other Prometheus clients")
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("REPEATS", "5")))
    ap.add_argument("--quick", action="store_true", help="tiny runs: prove every path works")
    ap.add_argument("--libs", default=",".join(LIBS))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR", "build"))
    ap.add_argument("--jobs", default=os.environ.get("JOBS", "2"))
    ap.add_argument("--vitals-bin", help="use this vitals-compare instead of building it")
    ap.add_argument("--no-install", action="store_true", help="never call apt-get")
    ap.add_argument("--json-out", help="default: BUILD_DIR/bench-compare.json")
    ap.add_argument("--markdown", metavar="JSON",
                    help="print a saved run as Markdown and exit (runs nothing)")
    a = ap.parse_args()
    if a.markdown:
        with open(a.markdown) as f:
            print_markdown(json.load(f))
        return 0
    libs = [x for x in a.libs.split(",") if x]
    workloads = [x for x in a.workloads.split(",") if x]
    bad = [x for x in libs if x not in LIBS] + [x for x in workloads if x not in WORKLOADS]
    if bad or a.repeats < 1 or not libs or not workloads:
        ap.error("unknown or empty: %s (libs: %s; workloads: %s)"
                 % (", ".join(bad) or "repeats", ", ".join(LIBS), ", ".join(WORKLOADS)))
    libs = [x for x in LIBS if x in libs]
    build_dir = os.path.abspath(os.path.join(ROOT, a.build_dir)) \
        if not os.path.isabs(a.build_dir) else a.build_dir
    out_dir = os.path.join(build_dir, "bench-compare")
    os.makedirs(out_dir, exist_ok=True)

    if not a.no_install:
        pkgs = [p for lib in libs for p in PACKAGES.get(lib, [])]
        if "scrape_http" in workloads:
            pkgs.append("wrk")
        ensure_packages(pkgs)

    cmds = {}
    for lib in libs:
        say("building " + lib)
        try:
            if lib == "vitals":
                cmds[lib] = [os.path.abspath(a.vitals_bin)] if a.vitals_bin \
                    else build_vitals(build_dir, a.jobs)
            elif lib in GO_DIRS:
                cmds[lib] = build_go(lib, out_dir)
            else:
                cmds[lib] = python_cmd()
        except (OSError, subprocess.CalledProcessError) as e:
            say("cannot build the %s harness: %s" % (lib, e))
            return 1

    env = " ".join("%s=%s" % (k, os.environ[k]) for k in ("REPEATS",) if k in os.environ)
    meta = {"command": " ".join(([env] if env else []) + ["bench/compare/run.py"] + sys.argv[1:]),
            "repeats": a.repeats, "quick": a.quick, "libs": libs, "workloads": workloads,
            "machine": machine(), "versions": versions(libs), "load_start": load_avg(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    res = Results()
    started = time.time()
    for k in range(a.repeats):
        say("round %d/%d (%.0f s so far)" % (k + 1, a.repeats, time.time() - started))
        for wl in workloads:
            for lib in libs:
                if wl == "scrape_http":
                    run_scrape_http(cmds[lib], lib, a.quick, res)
                else:
                    run_workload(cmds[lib], lib, wl, a.quick, res)
    meta["load_end"] = load_avg()
    meta["seconds"] = round(time.time() - started)

    rows = summarize(res, libs)
    bars = check_bars(rows)
    print_table(rows, bars, meta)
    json_out = a.json_out or os.path.join(build_dir, "bench-compare.json")
    with open(json_out, "w") as f:
        json.dump(dict(meta, rows=rows, bars=bars, failures=res.failures), f, indent=1)
        f.write("\n")
    print("\nJSON: " + json_out)
    if res.failures:
        say("%d run(s) failed; see above and 'failures' in the JSON" % len(res.failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
