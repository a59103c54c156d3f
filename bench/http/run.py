"""run.py - the cost of the RED middleware and the speed of /metrics, measured
with wrk on 127.0.0.1.

Middleware: requests/s of the http_hello example with the adapter on and
with --no-middleware, `wrk -t2 -c16 -d<duration>s .../hello/bob`, runs of the
two interleaved (the order flips each round), medians compared.
Scrape: requests/s of /metrics on vitals-bench-scrape-server (10,000
series), plain text and gzip, `wrk -t2 -c4`, interleaved, medians.

Usage: run.py --hello BIN --scrape-server BIN [--rounds N] [--duration S]
              [--threads "2,0"] [--callgrind]
--callgrind adds a load-independent figure: instructions per request with
and without the middleware, counted by valgrind.
Prints a Markdown section for BENCHMARKS.md. Build both binaries with
CMAKE_BUILD_TYPE=Release first. Every process it starts is stopped by pid.

SPDX-License-Identifier: MIT
"""
import argparse
import gzip
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request


def start(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not m:
        stop(p)
        raise RuntimeError(f"{cmd[0]} printed no URL: {line!r}")
    return p, int(m.group(1))


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def cpu_seconds(pid):
    """(user, user + system) CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tck, (int(fields[11]) + int(fields[12])) / tck


def wrk(url, conns, duration, headers=(), pid=None):
    """Requests/s, or (requests/s, server CPU microseconds per request) with pid."""
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{duration}s"]
    for h in headers:
        cmd += ["-H", h]
    cpu0 = cpu_seconds(pid) if pid else (0, 0)
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=duration + 60).stdout
    cpu1 = cpu_seconds(pid) if pid else (0, 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    if bad or errs:
        print(f"warning: {url}: {bad.group(0) if bad else ''} {errs.group(0) if errs else ''}",
              file=sys.stderr)
    if pid:
        n = max(total, 1)
        return rps, (cpu1[1] - cpu0[1]) * 1e6 / n, (cpu1[0] - cpu0[0]) * 1e6 / n
    return rps


def middleware(hello, rounds, duration, threads):
    runs = {"on": [], "off": []}
    cpu = {"on": [], "off": []}
    user = {"on": [], "off": []}
    for r in range(rounds):
        order = ["on", "off"] if r % 2 == 0 else ["off", "on"]
        for mode in order:
            cmd = [hello, "--port", "0", "--threads", str(threads)]
            if mode == "off":
                cmd.append("--no-middleware")
            p, port = start(cmd)
            try:
                url = f"http://127.0.0.1:{port}/hello/bob"
                wrk(url, 16, 1)  # warm-up: threads, shards, series
                rps, us, uus = wrk(url, 16, duration, pid=p.pid)
                runs[mode].append(rps)
                cpu[mode].append(us)
                user[mode].append(uus)
            finally:
                stop(p)
            print(f"  middleware threads={threads} round {r + 1} {mode}: "
                  f"{rps:.0f} req/s, {us:.2f} us CPU/request ({uus:.2f} user)", file=sys.stderr)
    return runs, cpu, user


def instructions(hello, middleware, n):
    """User-space instructions http_hello executes (callgrind) for n keep-alive
    requests, start-up and shutdown included."""
    out = f"/tmp/vt-bench-cg.{os.getpid()}"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
           hello, "--port", "0", "--threads", "2"] + ([] if middleware else ["--no-middleware"])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+)/", p.stdout.readline()).group(1))
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(n):
            c.request("GET", "/hello/bob")
            r = c.getresponse()
            r.read()
        c.close()
    finally:
        stop(p)
    err = p.stderr.read()
    p.stderr.close()
    if os.path.exists(out):
        os.remove(out)
    return int(re.search(r"Collected : (\d+)", err).group(1))


def per_request_instructions(hello, middleware):
    """The difference of two runs cancels start-up and shutdown."""
    lo, hi = 500, 2500
    return (instructions(hello, middleware, hi) - instructions(hello, middleware, lo)) / (hi - lo)


def scrape(server, rounds, duration):
    p, port = start([server, "--port", "0"])
    url = f"http://127.0.0.1:{port}/metrics"
    runs = {"plain": [], "gzip": []}
    try:
        with urllib.request.urlopen(url) as r:
            plain_len = len(r.read())
        req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req) as r:
            gz = r.read()
        gzip_len = len(gz)
        series = sum(1 for line in gzip.decompress(gz).decode().splitlines()
                     if line.startswith("bench_"))
        wrk(url, 4, 1)
        for r in range(rounds):
            order = ["plain", "gzip"] if r % 2 == 0 else ["gzip", "plain"]
            for mode in order:
                hdr = ["Accept-Encoding: gzip"] if mode == "gzip" else []
                runs[mode].append(wrk(url, 4, duration, hdr))
                print(f"  scrape round {r + 1} {mode}: {runs[mode][-1]:.1f} req/s",
                      file=sys.stderr)
    finally:
        stop(p)
    return runs, plain_len, gzip_len, series


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hello", required=True)
    ap.add_argument("--scrape-server", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions per request with valgrind")
    ap.add_argument("--threads", default="2,0",
                    help="http_hello --threads values: N polling threads, 0 thread per connection")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed", file=sys.stderr)
        return 77

    out = ["## libvitals-http", ""]
    out.append(f"Machine: {platform.machine()}, {subprocess.getoutput('nproc')} cores, "
               f"{platform.system()} {platform.release()}; load generator on the same cores. "
               f"{time.strftime('%Y-%m-%d')}.")
    out.append("")
    out.append("Command: `python3 bench/http/run.py --hello <build>/examples/http_hello/http_hello "
               "--scrape-server <build>/bench/http/vitals-bench-scrape-server "
               f"--rounds {a.rounds} --duration {a.duration}{' --callgrind' if a.callgrind else ''}` "
               "(Release build).")
    out.append("")
    out.append(f"### RED middleware cost: http_hello, `wrk -t2 -c16 -d{a.duration}s /hello/bob`")
    out.append("")
    out.append(f"Median of {a.rounds} interleaved runs each; middleware off is the same binary "
               "with `--no-middleware`. Server CPU per request is the server process's CPU time "
               "during the run (from /proc, 10 ms ticks) over the requests wrk completed. A "
               "positive cost means the middleware is slower.")
    out.append("")
    out.append("| libmicrohttpd threads | | middleware on | off | cost |")
    out.append("|---|---|---|---|---|")
    for t in [int(x) for x in a.threads.split(",")]:
        runs, cpu, user = middleware(a.hello, a.rounds, a.duration, t)
        label = f"pool of {t}" if t else "one per connection"
        for name, d, fmt, sign in (("req/s", runs, "{:,.0f}", -1),
                                   ("server CPU us/request", cpu, "{:.2f}", 1),
                                   ("server user CPU us/request", user, "{:.2f}", 1)):
            on, off = statistics.median(d["on"]), statistics.median(d["off"])
            out.append(f"| {label} | {name} | {fmt.format(on)} | {fmt.format(off)} | "
                       f"{100 * sign * (on - off) / off:+.1f}% |")
            out.append(f"| | (runs) | {', '.join(fmt.format(x) for x in d['on'])} | "
                       f"{', '.join(fmt.format(x) for x in d['off'])} | |")
    if a.callgrind and shutil.which("valgrind"):
        on = per_request_instructions(a.hello, True)
        off = per_request_instructions(a.hello, False)
        out.append("")
        out.append("Deterministic check, independent of other load: user-space instructions "
                   "http_hello (pool of 2) executes per keep-alive request, counted by "
                   "callgrind (difference of a 2,500- and a 500-request run):")
        out.append("")
        out.append("| middleware on | off | added by the middleware |")
        out.append("|---|---|---|")
        out.append(f"| {on:,.0f} | {off:,.0f} | {on - off:,.0f} ({100 * (on - off) / off:.1f}%) |")
    runs, plain_len, gzip_len, series = scrape(a.scrape_server, max(3, a.rounds // 2 + 1),
                                               a.duration)
    out.append("")
    out.append(f"### Scrape throughput: /metrics of {series:,} series, `wrk -t2 -c4 -d{a.duration}s`")
    out.append("")
    out.append("| encoding | body | scrapes/s (median) | runs |")
    out.append("|---|---|---|---|")
    for mode, size in (("plain", plain_len), ("gzip", gzip_len)):
        out.append(f"| {mode} | {size / 1024:,.0f} KiB | {statistics.median(runs[mode]):,.1f} | "
                   f"{', '.join(f'{x:,.1f}' for x in runs[mode])} |")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
