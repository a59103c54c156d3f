"""fresh_clone.py - a newcomer's first two commands, tried on a fresh clone.

1. README.md promises a newcomer two commands: its first shell block must be
   exactly `make demo` and `make test`, and nothing before it may ask for
   another command (an apt-get, a cmake line, ...).
2. The committed tree (HEAD of the repository this file is in, cloned with
   git into a scratch directory: no build tree, no node_modules, no sibling
   shared/ folder) runs `make demo` unattended for DEMO_DURATION seconds,
   building from scratch in the clone's own build/ (JOBS=2). While it runs:
   the service answers, Prometheus reports up == 1 for the service's job and
   RED series with non-zero rates (requests, errors, durations). After it
   ends by itself: exit status 0, the table and the demo's own summary
   (stopping, what loadgen sent and got back) were printed, every process
   recorded in its pid file is gone, no process names the clone or the work
   directory, and no port it used (service, Prometheus, Redis) still listens.

Usage: fresh_clone.py SOURCE_DIR [--readme-only] [--duration S] [--keep]
Exit 0 pass, 1 fail, 77 skip (git or a server missing, outside CI; under CI
a missing prerequisite fails).

SPDX-License-Identifier: MIT
"""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from procs import (Collected, free_port, http_get, query, remove_dir, scratch_dir, skip,
                   wait_until)

SHELL_LANGS = {"sh", "bash", "shell", "console", "zsh", "shell-session"}
NEWCOMER_COMMANDS = ["make demo", "make test"]
# Commands a newcomer must not be asked for before the two above.
OTHER_COMMANDS = re.compile(r"^(sudo\s|apt(-get)?\s|cmake\s|pip3?\s|npm\s|brew\s|git\s|"
                            r"\./|make\s+(?!demo\b|test\b))")

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


# ---- 1. README -----------------------------------------------------------------------

def fenced_blocks(text):
    """[(language, first line number, [lines])] of the ``` blocks, in order."""
    blocks, lang, start, body = [], None, 0, []
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*(```+|~~~+)\s*([\w+-]*)", line)
        if m and lang is None:
            lang, start, body = m.group(2).lower(), n, []
        elif m and lang is not None:
            blocks.append((lang, start, body))
            lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def commands_of(lines):
    """The commands of a shell block: comments, prompts and blank lines dropped."""
    out = []
    for line in lines:
        line = re.sub(r"^\s*\$\s+", "", line)
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            out.append(re.sub(r"\s+", " ", line))
    return out


def readme_problems(path):
    text = open(path, encoding="utf-8").read()
    blocks = fenced_blocks(text)
    shell = [b for b in blocks if b[0] in SHELL_LANGS]
    if not shell:
        return [f"{path}: no shell block; a newcomer's commands must be "
                "`make demo` and `make test`"]
    lang, line, body = shell[0]
    problems = []
    cmds = commands_of(body)
    if cmds != NEWCOMER_COMMANDS:
        problems.append(f"{path}:{line}: the first shell block must hold exactly "
                        f"{' and '.join(NEWCOMER_COMMANDS)} (a newcomer's only commands); "
                        f"it asks for: {'; '.join(cmds) or '(nothing)'}")
    # Before that block: no other fenced block with commands, no inline command.
    head = text.splitlines()[:line - 1]
    for blang, bline, bbody in blocks:
        if bline >= line:
            break
        cmds = [c for c in commands_of(bbody) if OTHER_COMMANDS.match(c)]
        if cmds:
            problems.append(f"{path}:{bline}: asks for {cmds[0]!r} before make demo / "
                            "make test")
    for n, row in enumerate(head, 1):
        for span in re.findall(r"`([^`]+)`", row):
            if OTHER_COMMANDS.match(span.strip()):
                problems.append(f"{path}:{n}: asks for `{span}` before make demo / make test")
    return problems


def self_test(readme):
    """The README check on altered copies: each must be caught, the real one not."""
    real = open(readme, encoding="utf-8").read()
    m = re.search(r"^```(?:sh|bash|shell|console)\n.*?^```", real, re.S | re.M)
    block = m.group(0) if m else "```sh\nmake demo\nmake test\n```"
    cases = [
        ("unchanged", real, True),
        ("apt-get first in the block",
         real.replace(block, block.replace("make demo", "sudo apt-get install cmake\nmake demo", 1),
                      1), False),
        ("a cmake block before",
         real.replace(block, "```sh\ncmake --preset dev\n```\n\n" + block, 1), False),
        ("an inline apt-get before",
         real.replace(block, "First run `apt-get install libmicrohttpd-dev`.\n\n" + block, 1),
         False),
        ("make demo alone", real.replace(block, "```sh\nmake demo\n```", 1), False),
        ("a third command",
         real.replace(block, block.replace("make test", "make test\nmake bench", 1), 1), False),
        ("no shell block", re.sub(r"```(sh|bash|shell|console)\n", "```text\n", real), False),
    ]
    tmp = scratch_dir("vt-readme-check-")
    try:
        for name, text, ok in cases:
            path = os.path.join(tmp, "README.md")
            open(path, "w", encoding="utf-8").write(text)
            problems = readme_problems(path)
            check((not problems) == ok and (ok or all("README.md" in p for p in problems)),
                  f"README check, {name}: " + ("passes" if ok else
                                               f"caught ({problems[0] if problems else '-'})"))
    finally:
        remove_dir(tmp)


# ---- 2. make demo in a fresh clone --------------------------------------------------

class MakeDemo(Collected):
    """`make demo` in the clone, in a session of its own, output collected."""

    def __init__(self, clone, env):
        super().__init__(["make", "demo"], cwd=clone, env=env, start_new_session=True)

    def has(self, pattern):
        return any(re.search(pattern, l) for l in self.lines)

    def kill(self):
        """Last resort after a failure: the whole session of make."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()


def read_pids(workdir):
    """{name: pid} from the demo's pid file."""
    out = {}
    try:
        for line in open(os.path.join(workdir, "pids"), encoding="utf-8"):
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                out[parts[0]] = int(parts[1])
    except OSError:
        pass
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None


def state(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def running(pid, name_hint):
    """Is pid still the process the demo started (not gone, not a zombie, not reused)?"""
    cmd = cmdline(pid)
    if cmd is None or state(pid) in (None, "Z", "X"):
        return False
    return name_hint in cmd


def processes_naming(*paths):
    """[(pid, command line)] of live processes whose command line names a path."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        cmd = cmdline(int(d))
        if cmd and state(int(d)) not in ("Z", "X") and any(p in cmd for p in paths):
            found.append((int(d), cmd))
    return found


def listening_ports():
    """Local TCP ports in LISTEN state (IPv4 and IPv6)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table, encoding="ascii").read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if len(f) > 3 and f[3] == "0A":
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
    return ports


def prerequisites():
    for prog in ("git", "make", "cmake", "curl", "redis-server", "prometheus"):
        if not shutil.which(prog):
            skip(f"{prog} is not installed (make demo needs it)")


def run_demo(src, duration, keep):
    top = subprocess.run(["git", "-C", src, "rev-parse", "--show-toplevel"],
                         capture_output=True, text=True)
    if top.returncode != 0:
        skip(f"{src} is not a git checkout: nothing to clone")
    head = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    tmp = scratch_dir("vt-fresh-clone-")
    clone = os.path.join(tmp, "vitals")
    demo = None
    try:
        r = subprocess.run(["git", "clone", "-q", "--no-hardlinks", top.stdout.strip(), clone],
                           capture_output=True, text=True)
        if not check(r.returncode == 0, f"git clone of HEAD ({head}) into {clone}"):
            print(r.stdout + r.stderr)
            return
        check(not os.path.exists(os.path.join(clone, "build")) and
              not os.path.exists(os.path.join(tmp, "shared")),
              "the clone has no build tree and no sibling shared/")

        demo_port, prom_port = free_port(), free_port()
        while prom_port == demo_port:
            prom_port = free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DEMO_", "MAKE", "MFLAGS")) and
               k not in ("BUILD_DIR", "PROM_PORT", "INSTALL_DEPS_NPM")}
        env.update(DEMO_PORT=str(demo_port), PROM_PORT=str(prom_port),
                   DEMO_DURATION=str(duration), DEMO_SCRAPE_INTERVAL="1s", DEMO_REFRESH="3",
                   DEMO_RATE="30", DEMO_LATENCY_SCALE="0.1", DEMO_KEEP="1", JOBS="2",
                   TMPDIR=tmp)
        started = time.monotonic()
        demo = MakeDemo(clone, env)
        print(f"make demo in {clone}: DEMO_PORT={demo_port} PROM_PORT={prom_port} "
              f"DEMO_DURATION={duration}", flush=True)

        # Installing nothing and building from scratch: up to 5 minutes on a
        # loaded two-core machine before the URLs are printed.
        up = wait_until(lambda: demo.has(r"^\s+Prometheus\s+http://") or
                        demo.proc.poll() is not None, 300, 0.5)
        built = time.monotonic() - started
        if not check(up and demo.proc.poll() is None,
                     f"make demo built and started everything ({built:.0f} s)"):
            return
        work = wait_until(lambda: (glob.glob(os.path.join(tmp, "vitals-demo.*")) or [None])[0],
                          10)
        check(work is not None, "the demo's work directory is under TMPDIR")
        m = re.search(r"Redis\s+127\.0\.0\.1:(\d+)", demo.text())
        redis_port = int(m.group(1)) if m else None
        check(redis_port is not None, "the demo printed its Redis port")

        service = f"http://127.0.0.1:{demo_port}"
        prom = f"http://127.0.0.1:{prom_port}"
        status, body = http_get(service + "/reservations/42")
        check(status in (200, 500) and body.startswith((b"[", b"{")),
              f"the service answered /reservations/42 ({status})")
        status, body = http_get(service + "/metrics")
        check(status == 200 and b"http_requests_total{" in body,
              "the service's /metrics carries http_requests_total")

        def value(expr):
            res = query(prom, expr)
            return next(iter(res.values())) if res else None

        job = 'job="reservations"'
        check(wait_until(lambda: value(f"up{{{job}}}") == 1.0, 30, 0.5),
              "Prometheus scraped the service: up == 1")
        rates = {
            "request rate": f"sum(rate(http_requests_total{{{job}}}[10s]))",
            "error rate": f'sum(rate(http_requests_total{{{job},code=~"5.."}}[10s]))',
            "duration observations":
                f"sum(rate(http_request_duration_seconds_count{{{job}}}[10s]))",
            "reservations route":
                f'sum(rate(http_requests_total{{{job},route="/reservations/:user_id"}}[10s]))',
        }
        for what, expr in rates.items():
            v = wait_until(lambda: (value(expr) or 0) > 0 and value(expr), 30, 1)
            check(bool(v), f"Prometheus: {what} > 0 ({expr} = {v})")
        pids = read_pids(work) if work else {}
        check(set(pids) == {"redis", "service", "prometheus", "loadgen"},
              f"the pid file names redis, service, prometheus, loadgen ({pids})")

        # The end: DEMO_DURATION stops it by itself.
        left = duration - (time.monotonic() - started - built) + 60
        try:
            rc = demo.proc.wait(timeout=max(left, 30))
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, f"make demo ended by itself with status 0 (status {rc})")
        demo.reader.join(timeout=5)
        out = demo.text()
        check(f"demo: building the service and loadgen in {clone}/build/release" in out and
              os.access(os.path.join(clone, "build/release/examples/reservations/reservations"),
                        os.X_OK), "it built from scratch in the clone's build/release")
        check(re.search(r"^HTTP route\s+req/s", out, re.M) is not None, "the table was printed")
        check(re.search(r"^\s+/reservations/:user_id\s+\d", out, re.M) is not None,
              "the table has a row for /reservations/:user_id")
        check("demo: stopping loadgen prometheus service redis" in out,
              "the demo said what it stopped, last started first")
        m = re.search(r"demo: what loadgen sent and got back:\n\s+loadgen: (\d+) requests sent, "
                      r"(\d+) answered", out)
        check(m is not None and int(m.group(1)) > 0 and m.group(1) == m.group(2),
              "the summary says what loadgen sent and got back: "
              f"{m.group(0).splitlines()[-1].strip() if m else 'missing'}")

        # Nothing left behind.
        hints = {"redis": "redis-server", "service": "reservations", "prometheus": "prometheus",
                 "loadgen": "loadgen"}
        for name, pid in sorted(pids.items()):
            check(not running(pid, hints.get(name, name)), f"{name} (pid {pid}) is gone")
        leftovers = processes_naming(clone, work or clone)
        check(not leftovers, f"no process names the clone or the work directory {leftovers}")
        listening = listening_ports()
        for name, port in (("service", demo_port), ("Prometheus", prom_port),
                           ("Redis", redis_port)):
            if port:
                check(port not in listening, f"nothing listens on the {name} port {port}")
    finally:
        if demo:
            demo.kill()
            if failures:
                print("---- make demo output ----\n" + demo.text()[-6000:])
                for log in sorted(glob.glob(os.path.join(tmp, "vitals-demo.*", "*.log"))):
                    print(f"---- {log} (end) ----\n" + open(log, errors="replace").read()[-2000:])
            # By pid, should the demo have left anything (reported above).
            for work_dir in glob.glob(os.path.join(tmp, "vitals-demo.*")):
                for name, pid in read_pids(work_dir).items():
                    if running(pid, name if name != "redis" else "redis-server"):
                        os.kill(pid, signal.SIGKILL)
        if keep or failures:
            print(f"kept {tmp}")
        else:
            remove_dir(tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source_dir")
    ap.add_argument("--readme-only", action="store_true")
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)

    problems = readme_problems(os.path.join(src, "README.md"))
    for p in problems:
        print(p)
    check(not problems, "README.md: a newcomer's commands are exactly `make demo` and "
          "`make test`")
    if args.readme_only:
        self_test(os.path.join(src, "README.md"))
    elif not problems:
        prerequisites()
        run_demo(src, args.duration, args.keep)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
