"""procs.py - the real servers the demo's script tests run: redis-server, the
reservations service and Prometheus, each on 127.0.0.1 on a free port, each
stopped by its pid; plus Prometheus API helpers, the skip rule, and a
background command whose output is collected line by line.

SPDX-License-Identifier: MIT
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP = 77


def skip(reason):
    """Exit 77 (skipped), or 1 when CI is set: CI installs every prerequisite."""
    if os.environ.get("CI"):
        print(f"FAIL (prerequisite missing under CI): {reason}")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


class Collected:
    """A command in the background, its output collected line by line, its
    SIGINT at the default as from a terminal (a background ctest may have it
    ignored, and bash cannot trap a signal ignored at entry)."""

    def __init__(self, argv, **popen):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                      signal.SIG_DFL),
                                     **popen)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def text(self):
        return "\n".join(self.lines)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(step)
    return cond()


def http_get(url, timeout=5):
    """(status, body bytes), or (0, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


class Proc:
    """A child process with its log in a scratch directory."""

    def __init__(self, name, argv, workdir, stdout=None):
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=stdout or self.log, stderr=self.log,
                                     cwd=workdir)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stop by pid; returns the exit status (negative: killed by a signal)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def start_redis(workdir):
    port = free_port()
    p = Proc("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                       "--appendonly", "no", "--dir", workdir], workdir)
    p.port = port

    def pong():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    if not wait_until(pong, 10):
        p.stop()
        raise RuntimeError("redis-server did not answer PING:\n" + p.log_text())
    return p


def start_service(binary, workdir, *args):
    """The reservations service on a free port; .base is its URL without a
    trailing slash."""
    p = Proc("service", [binary, "--port", "0", *args], workdir, stdout=subprocess.PIPE)
    line = p.proc.stdout.readline().decode("utf-8", "replace")
    m = re.search(r"(http://127\.0\.0\.1:(\d+))/", line)
    if not m:
        p.stop()
        raise RuntimeError(f"the service did not print its URL: {line!r}\n{p.log_text()}")
    p.base = m.group(1)
    p.port = int(m.group(2))
    return p


def start_prometheus(workdir, targets, interval="1s"):
    """Prometheus scraping {job: "host:port"} every interval; .url is its URL."""
    port = free_port()
    jobs = "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: [\"{target}\"]\n"
        for job, target in targets.items())
    config = os.path.join(workdir, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n"
                f"scrape_configs:\n{jobs}")
    data = os.path.join(workdir, "prometheus-data")
    os.makedirs(data, exist_ok=True)
    p = Proc("prometheus", ["prometheus", f"--config.file={config}",
                            f"--storage.tsdb.path={data}",
                            f"--web.listen-address=127.0.0.1:{port}"], workdir)
    p.port = port
    p.url = f"http://127.0.0.1:{port}"
    if not wait_until(lambda: not p.alive() or http_get(p.url + "/-/ready")[0] == 200, 60):
        p.stop()
        raise RuntimeError("Prometheus did not get ready:\n" + p.log_text())
    if not p.alive():
        raise RuntimeError("Prometheus exited:\n" + p.log_text())
    return p


def api(prom_url, path, **params):
    url = prom_url + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    status, body = http_get(url)
    if status != 200:
        return None
    return json.loads(body)


def query(prom_url, expr):
    """Instant query: {tuple of (label, value) sorted: float}."""
    doc = api(prom_url, "/api/v1/query", query=expr)
    if not doc or doc.get("status") != "success":
        return None
    return {tuple(sorted(r["metric"].items())): float(r["value"][1])
            for r in doc["data"]["result"]}


def rfc3339_seconds(ts):
    """'2026-11-22T05:13:17.123456789Z' -> Unix seconds (float)."""
    import datetime
    m = re.match(r"(\d+-\d+-\d+T\d+:\d+:\d+)(\.\d+)?(Z|[+-]\d\d:\d\d)$", ts or "")
    if not m:
        return 0.0
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(m.group(1) + zone).timestamp() + float(m.group(2) or 0)


def last_scrape(prom_url, job):
    """(Unix time of the job's last scrape, its health), or (0, None)."""
    doc = api(prom_url, "/api/v1/targets")
    for t in (doc or {}).get("data", {}).get("activeTargets", []):
        if t.get("labels", {}).get("job") == job:
            return rfc3339_seconds(t.get("lastScrape")), t.get("health")
    return 0.0, None


def scratch_dir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def remove_dir(path):
    shutil.rmtree(path, ignore_errors=True)
