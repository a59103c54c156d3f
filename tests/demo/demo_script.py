"""demo_script.py - tools/demo.sh (what `make demo` runs), started as a user
would, with prebuilt binaries (DEMO_BUILD=0) so that the test builds nothing.

1. A busy DEMO_PORT: exit 1 with a clear message, nothing started, no work
   directory made.
2. A run on free ports: its URLs answer, /metrics carries the RED metrics,
   Prometheus reports up == 1 for the service's job, the table is printed
   (stdout is not a terminal: no screen clearing); SIGINT stops it with
   status 0, and no process it recorded in its pid file is left, its work
   directory is gone.
3. DEMO_DURATION: it stops by itself, again leaving no process behind.
4. On a terminal (a private tmux server): the view is `vitals top`'s full
   screen with the service's routes, not the table; `q` quits it, which
   ends the demo and stops every process it started. Needs tmux (fails
   without it under CI).

Usage: demo_script.py <repository root> <build tree holding examples/>
Exit 0 pass, 1 fail, 77 skip (redis-server or prometheus missing, outside CI).

SPDX-License-Identifier: MIT
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from procs import (Collected, free_port, http_get, query, remove_dir, scratch_dir, skip,
                   wait_until)

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


class Demo(Collected):
    """tools/demo.sh in the background, its output collected line by line."""

    def __init__(self, root, bindir, tmpdir, **env):
        e = dict(os.environ, DEMO_BUILD="0", DEMO_BIN_DIR=bindir, TMPDIR=tmpdir,
                 DEMO_SCRAPE_INTERVAL="1s", DEMO_REFRESH="2", DEMO_LATENCY_SCALE="0.1",
                 DEMO_RATE="30")
        e.update({k: str(v) for k, v in env.items()})
        super().__init__([os.path.join(root, "tools", "demo.sh")], env=e)

    def field(self, label):
        """The value printed after a label such as "work dir", or None."""
        for line in list(self.lines):
            if line.startswith("  " + label):
                rest = line[len("  " + label):].split()
                return rest[0] if rest else None
        return None

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def read_pids(path):
    pids = {}
    try:
        with open(path) as f:
            for line in f:
                name, pid = line.split()
                pids[name] = int(pid)
    except (OSError, ValueError):
        pass
    return pids


def running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is gone for our purpose only once reaped; demo.sh reaps its
    # children, so a zombie here would be a real leak.
    return True


def test_busy_port(root, bindir):
    tmp = scratch_dir("vt-demo-busy-")
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        start = time.monotonic()
        d = Demo(root, bindir, tmp, DEMO_PORT=port, PROM_PORT=free_port(), DEMO_DURATION=5)
        rc = d.wait(20)
        d.reader.join(2)
        took = time.monotonic() - start
    check(rc == 1, f"a busy DEMO_PORT exits 1 (got {rc})")
    check(f"port {port}" in d.text() and "in use" in d.text(),
          "the message names the busy port: " + d.text().replace("\n", " | "))
    check(took < 5, f"it stops at once ({took:.1f} s)")
    check(os.listdir(tmp) == [], "no work directory was made")
    d.kill()
    remove_dir(tmp)


def test_run_and_interrupt(root, bindir):
    tmp = scratch_dir("vt-demo-run-")
    port, prom_port = free_port(), free_port()
    while prom_port == port:
        prom_port = free_port()
    d = Demo(root, bindir, tmp, DEMO_PORT=port, PROM_PORT=prom_port, DEMO_DURATION=120)
    try:
        work = wait_until(lambda: d.field("work dir"), 30)
        check(work is not None, "the URLs and the work directory are printed")
        check(d.field("service") == f"http://127.0.0.1:{port}/", "the service URL is printed")
        check(d.field("Prometheus") == f"http://127.0.0.1:{prom_port}/",
              "the Prometheus URL is printed")
        pids = wait_until(lambda: len(read_pids(os.path.join(work or "", "pids"))) == 4 and
                          read_pids(os.path.join(work, "pids")), 10) or {}
        check(sorted(pids) == ["loadgen", "prometheus", "redis", "service"],
              f"four processes recorded: {pids}")
        check(all(running(p) for p in pids.values()), "all of them are running")

        status, body = http_get(f"http://127.0.0.1:{port}/up")
        check(status == 200, "the service answers /up")
        got_traffic = wait_until(
            lambda: b'route="/reservations/:user_id"' in http_get(
                f"http://127.0.0.1:{port}/metrics")[1], 15)
        check(got_traffic, "/metrics shows loadgen's traffic under the route template")
        body = http_get(f"http://127.0.0.1:{port}/metrics")[1]
        for name in (b"http_requests_total{", b"http_request_duration_seconds_bucket{",
                     b"redis_calls_total{", b"db_query_duration_seconds_bucket{",
                     b"process_cpu_seconds_total"):
            check(name in body, f"/metrics has {name.decode()}")

        prom = f"http://127.0.0.1:{prom_port}"
        up = wait_until(lambda: (query(prom, 'up{job="reservations"}') or {}) and
                        all(v == 1 for v in query(prom, 'up{job="reservations"}').values()), 30)
        check(bool(up), "Prometheus: up{job=\"reservations\"} == 1")
        table = wait_until(lambda: "/reservations/:user_id" in d.text() and
                           "HTTP route" in d.text(), 30)
        check(bool(table), "the table shows the routes")
        check("\033[" not in d.text(), "no screen clearing when stdout is not a terminal")

        d.proc.send_signal(signal.SIGINT)
        rc = d.wait(40)
        d.reader.join(2)
        check(rc == 0, f"SIGINT stops it with status 0 (got {rc})")
        left = {n: p for n, p in pids.items() if running(p)}
        check(not left, f"no process left behind: {left}")
        check(work is not None and not os.path.exists(work), "the work directory is removed")
        check("what loadgen sent" in d.text(), "loadgen's summary is shown at the end")
        with socket.socket() as s:
            check(s.connect_ex(("127.0.0.1", port)) != 0, "the service port is closed")
    finally:
        if d.proc.poll() is None:
            print(d.text())
        d.kill()
        for pid in read_pids(os.path.join(tmp, "pids")).values():
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        remove_dir(tmp)
    if failures:
        print("--- demo output ---\n" + d.text())


def test_duration(root, bindir):
    tmp = scratch_dir("vt-demo-duration-")
    d = Demo(root, bindir, tmp, DEMO_PORT=free_port(), PROM_PORT=free_port(), DEMO_DURATION=3)
    pids = {}
    deadline = time.monotonic() + 60
    # Collect the pid file while it exists: it goes with the work directory.
    while d.proc.poll() is None and time.monotonic() < deadline:
        work = d.field("work dir")
        if work:
            pids.update(read_pids(os.path.join(work, "pids")))
        time.sleep(0.1)
    rc = d.wait(1)
    d.reader.join(2)
    work = d.field("work dir")
    check(rc == 0, f"DEMO_DURATION=3 stops by itself with status 0 (got {rc})")
    check(len(pids) == 4, f"four processes were recorded: {pids}")
    left = {n: p for n, p in pids.items() if running(p)}
    check(not left, f"no process left behind: {left}")
    check(work is not None and not os.path.exists(work), "the work directory is removed")
    check("---- " in d.text(), "the table was printed")
    d.kill()
    remove_dir(tmp)


def tmux_capture(tmux, sock):
    r = subprocess.run([tmux, "-L", sock, "capture-pane", "-p", "-t", "demo"],
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""


def test_terminal(root, bindir):
    tmux = shutil.which("tmux")
    if not tmux:
        check(not os.environ.get("CI"), "tmux is installed (needed under CI)")
        print("note: tmux is not installed; the terminal case is not run")
        return
    if not os.access(os.path.join(bindir, "src", "cli", "vitals"), os.X_OK):
        print("note: the vitals command is not built; the terminal case is not run")
        return
    tmp = scratch_dir("vt-demo-tty-")
    sock = f"vt-demo-{os.getpid()}"
    env = {"DEMO_BUILD": "0", "DEMO_BIN_DIR": bindir, "TMPDIR": tmp,
           "DEMO_SCRAPE_INTERVAL": "1s", "DEMO_LATENCY_SCALE": "0.1", "DEMO_RATE": "30",
           "DEMO_PORT": str(free_port()), "PROM_PORT": str(free_port()),
           "DEMO_DURATION": "120"}
    cmd = ["env"] + [f"{k}={v}" for k, v in env.items()] + [os.path.join(root, "tools",
                                                                          "demo.sh")]
    pids = {}
    screen = ""
    try:
        r = subprocess.run([tmux, "-L", sock, "-f", "/dev/null", "new-session", "-d", "-s",
                            "demo", "-x", "120", "-y", "40"] + cmd,
                           capture_output=True, text=True)
        check(r.returncode == 0, "tmux started the demo" + (": " + r.stderr if r.stderr else ""))

        def top_screen():
            nonlocal screen
            for f in glob.glob(os.path.join(tmp, "*", "pids")):
                pids.update(read_pids(f))
            screen = tmux_capture(tmux, sock)
            return "/reservations/:user_id" in screen and "P99" in screen

        shown = wait_until(top_screen, 60)
        check(bool(shown), "on a terminal the view is vitals top with the routes")
        if not shown:
            print("--- screen ---\n" + screen)
        check("HTTP route" not in screen, "not the Prometheus table")
        check(len(pids) == 4, f"four processes were recorded: {pids}")
        subprocess.run([tmux, "-L", sock, "send-keys", "-t", "demo", "q"], capture_output=True)
        gone = wait_until(lambda: not any(running(p) for p in pids.values()) and
                          not glob.glob(os.path.join(tmp, "*")), 40)
        left = {n: p for n, p in pids.items() if running(p)}
        check(bool(gone) and not left, f"q ends the demo, no process left behind: {left}")
    finally:
        subprocess.run([tmux, "-L", sock, "kill-server"], capture_output=True)
        for pid in pids.values():
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        remove_dir(tmp)


def main():
    if len(sys.argv) != 3:
        print("usage: demo_script.py <repository root> <build tree>")
        return 2
    root, bindir = sys.argv[1], sys.argv[2]
    for tool in ("redis-server", "prometheus", "curl"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed")
    test_busy_port(root, bindir)
    test_run_and_interrupt(root, bindir)
    test_duration(root, bindir)
    test_terminal(root, bindir)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
