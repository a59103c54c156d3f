"""rlib.py - what the reliability scripts share: the target service, a
legitimate scraper in its own process, raw HTTP over sockets, process memory
and threads, checks that count, and the skip rule.

Everything runs on 127.0.0.1. The target (reliability_target, built from
target.c) is started by Target and stopped by closing its standard input, then
by its pid if it does not stop in time; its exit status must be 0, which under
AddressSanitizer also means no leak.

SPDX-License-Identifier: MIT
"""
import base64
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import time

SKIP = 77


def skip(reason):
    """Exit 77 (skipped), or 1 when CI is set: CI installs every prerequisite."""
    if os.environ.get("CI"):
        print(f"FAIL (prerequisite missing under CI): {reason}")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def sanitized():
    """True under a sanitizer build (the tests then get ASAN_OPTIONS/TSAN_OPTIONS)."""
    return "ASAN_OPTIONS" in os.environ and os.environ.get("ASAN_OPTIONS", "").find(
        "detect_leaks") >= 0


class Checks:
    """CHECK-style counting; report() prints "N passed, N failed" and exits."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"CHECK failed: {what}", flush=True)
        return cond

    def report(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)


# ---- the target -------------------------------------------------------------

class Target:
    """A running reliability_target; server and red are its two ports."""

    def __init__(self, binary, *args):
        self.proc = subprocess.Popen([binary, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"ready server=(\d+) red=(\d+) pid=(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"reliability_target did not start: {line!r}")
        self.server, self.red, self.pid = int(m[1]), int(m[2]), int(m[3])

    def alive(self):
        return self.proc.poll() is None

    def rss_kib(self):
        return status_field(self.pid, "VmRSS")

    def threads(self):
        return status_field(self.pid, "Threads")

    def stop(self, timeout=30):
        """Close stdin; returns the exit status (None if it had to be killed)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # this process, by its pid
            self.proc.wait()
            return None


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


# ---- raw HTTP ---------------------------------------------------------------

def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, deadline):
    """One HTTP/1.1 response from s: (status, headers dict, body), or None when
    the peer closed first. Reads a Content-Length body; without one, to EOF."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        d = s.recv(65536)
        if not d:
            return None
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise ValueError(f"not an HTTP status line: {lines[0][:80]!r}")
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            d = s.recv(65536)
            if not d:
                break
            rest += d
        body = rest[:n]
    else:
        body = rest
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            d = s.recv(65536)
            if not d:
                break
            body += d
    return int(m[1]), headers, body


def split_responses(data):
    """Statuses of the complete HTTP/1.x responses at the start of data, in
    order, read by their framing (Content-Length, or to the end of data)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        if not m:
            out.append("garbage")
            break
        out.append(int(m[1]))
        cl = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
        if not cl:
            break
        data = rest[int(cl[1]):]
    return out


def exchange(port, raw, timeout=5.0):
    """Send raw bytes on a new connection and read until the peer closes or
    stays quiet for a second: the statuses of the responses (empty when it
    just closed), plus "reset" when the connection was reset."""
    deadline = time.monotonic() + timeout
    try:
        s = connect(port, timeout)
    except OSError:
        return ["refused"]
    data = b""
    tail = []
    try:
        s.sendall(raw)
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, min(1.0, deadline - time.monotonic())))
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            data += d
    except (ConnectionResetError, BrokenPipeError):
        tail = ["reset"]
    finally:
        s.close()
    return split_responses(data) + tail


def basic(user, password):
    tok = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Authorization: Basic {tok}\r\n"


def get(port, path="/metrics", extra="", timeout=1.0):
    """A complete GET on a new connection: (status, body) or raises."""
    deadline = time.monotonic() + timeout
    s = connect(port, timeout)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
                  "Connection: close\r\n\r\n".encode())
        r = read_response(s, deadline)
        if r is None:
            raise ConnectionError("closed without a response")
        return r[0], r[2]
    finally:
        s.close()


# ---- the legitimate scraper -------------------------------------------------

def _scrape_loop(port, extra, interval, stop, results):
    attempts = []  # (start time, ok, seconds)
    while not stop.is_set():
        t0 = time.monotonic()
        ok = False
        try:
            status, body = get(port, "/metrics", extra, timeout=1.0)
            ok = status == 200 and b"http_requests_total" in body
        except (OSError, ValueError, ConnectionError):
            ok = False
        took = time.monotonic() - t0
        attempts.append((t0, ok and took <= 1.0, took))
        time.sleep(max(0.0, interval - took))
    results.put(attempts)


class Scraper:
    """Scrapes /metrics every interval seconds in a process of its own, so an
    attack running in this process cannot slow it down."""

    def __init__(self, port, extra="", interval=0.1):
        ctx = multiprocessing.get_context("fork")
        self.stop_ev = ctx.Event()
        self.q = ctx.Queue()
        self.p = ctx.Process(target=_scrape_loop,
                             args=(port, extra, interval, self.stop_ev, self.q), daemon=True)
        self.p.start()
        self.attempts = None

    def finish(self):
        self.stop_ev.set()
        self.attempts = self.q.get(timeout=30)
        self.p.join(10)
        return self.attempts

    def window(self, t0, t1):
        """(successes, attempts, worst seconds) of scrapes started in [t0, t1)."""
        a = [x for x in self.attempts if t0 <= x[0] < t1]
        return sum(1 for x in a if x[1]), len(a), max((x[2] for x in a), default=0.0)


def median(xs):
    return statistics.median(xs) if xs else float("nan")
