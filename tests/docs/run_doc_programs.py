#!/usr/bin/python3
"""run_doc_programs.py - compile and run every C program the documentation shows.

A program is a ```c block right after a marker line:

    <!-- program: NAME [libs=http,redis] [pkg=libmicrohttpd] [expect=TEXT]...
                       [fetch=/PATH] [timeout=S] -->

Each one is compiled as a user would compile it (C11, the public headers,
linked with the built libraries, warnings as errors) and run with a timeout;
it must exit 0, and every expect= text must be in its standard output.
pkg= adds a pkg-config package for programs that call a library directly. With
fetch=, the program is a server: it gets a free port in the PORT environment
variable, the runner polls http://127.0.0.1:PORT/PATH until it answers 200,
checks the expect= texts in that body, then sends SIGTERM and wants exit 0.

A ```c block that defines main() without a marker is an error: a whole
program in the docs is always tested. Names must be unique.

Usage: run_doc_programs.py --cc CC --include DIR --lib NAME=PATH... --work DIR
                           [--flags "..."] FILE_OR_DIR...

SPDX-License-Identifier: MIT
"""
import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

MARKER = re.compile(r"^<!--\s*program:\s*(.*?)\s*-->\s*$")
MAIN = re.compile(r"\bint\s+main\s*\(")


class Program:
    def __init__(self, path, line, spec):
        words = shlex.split(spec)
        if not words:
            raise ValueError(f"{path}:{line}: program marker without a name")
        self.name = words[0]
        self.path, self.line = path, line
        self.libs, self.expect, self.fetch, self.timeout = ["core"], [], None, 20.0
        self.pkgs = []
        for w in words[1:]:
            key, _, value = w.partition("=")
            if key == "libs":
                self.libs += [v for v in value.split(",") if v]
            elif key == "pkg":
                self.pkgs += [v for v in value.split(",") if v]
            elif key == "expect":
                self.expect.append(value)
            elif key == "fetch":
                self.fetch = value
            elif key == "timeout":
                self.timeout = float(value)
            else:
                raise ValueError(f"{path}:{line}: unknown marker option {w!r}")
        self.code = None

    def where(self):
        return f"{os.path.relpath(self.path)}:{self.line}"


def extract(path, problems):
    """The marked programs of a Markdown file; unmarked main() blocks are problems."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, pending, i = [], None, 0
    while i < len(lines):
        ln = lines[i]
        m = MARKER.match(ln)
        if m:
            try:
                pending = Program(path, i + 1, m.group(1))
            except ValueError as e:
                problems.append(str(e))
            i += 1
            continue
        fence = re.match(r"^(\s*)(`{3,})\s*(\w*)", ln)
        if fence:
            lang, ticks = fence.group(3), fence.group(2)
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith(ticks):
                j += 1
            body = "\n".join(lines[i + 1: j]) + "\n"
            if pending is not None:
                if lang != "c":
                    problems.append(f"{pending.where()}: the block after the marker is "
                                    f"```{lang}, not ```c")
                else:
                    pending.code = body
                    out.append(pending)
            elif lang == "c" and MAIN.search(body):
                problems.append(f"{os.path.relpath(path)}:{i + 1}: a C block defines main() but "
                                "has no <!-- program: NAME --> marker")
            pending = None
            i = j + 1
            continue
        if ln.strip() and pending is not None:
            problems.append(f"{pending.where()}: the marker is not followed by a code block")
            pending = None
        i += 1
    if pending is not None:
        problems.append(f"{pending.where()}: the marker is not followed by a code block")
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fetch(url, deadline):
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
        except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
            last = str(e)
            time.sleep(0.05)
    return None, last


def stop(proc, grace=5.0):
    """SIGTERM, then SIGKILL after grace seconds; the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None
    return proc.returncode


def run_one(p, args, libs):
    """None when it passed, else the reason."""
    missing = [lib for lib in p.libs if lib not in libs]
    if missing:
        return f"needs libraries this build lacks: {', '.join(missing)}"
    src = os.path.join(args.work, p.name + ".c")
    exe = os.path.join(args.work, p.name)
    with open(src, "w", encoding="utf-8") as f:
        f.write(p.code)
    cmd = [args.cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
           "-Werror", "-g", *shlex.split(args.flags), "-I", args.include, src, "-o", exe]
    for lib in reversed(p.libs):  # dependents before the core
        path = libs[lib]
        cmd += [path, "-Wl,-rpath," + os.path.dirname(path)]
    for pkg in p.pkgs:
        r = subprocess.run(["pkg-config", "--cflags", "--libs", pkg], capture_output=True,
                           text=True)
        if r.returncode != 0:
            return f"pkg-config {pkg} failed: {r.stderr.strip()}"
        cmd += shlex.split(r.stdout)
    cmd += ["-lpthread", "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return "does not compile:\n" + r.stderr[-4000:]
    env = dict(os.environ)
    if p.fetch is None:
        try:
            r = subprocess.run([exe], capture_output=True, text=True, timeout=p.timeout, env=env,
                               cwd=args.work)
        except subprocess.TimeoutExpired:
            return f"still running after {p.timeout:g} s"
        if r.returncode != 0:
            return f"exit {r.returncode}\n{r.stdout[-2000:]}{r.stderr[-2000:]}"
        for e in p.expect:
            if e not in r.stdout:
                return f"output lacks {e!r}:\n{r.stdout[-2000:]}"
        return None
    env["PORT"] = str(free_port())
    proc = subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=args.work)
    try:
        # A server may need a moment before its metrics show what it did:
        # fetch again until every expected text is there, or the time is up.
        deadline = time.monotonic() + p.timeout
        while True:
            status, body = fetch(f"http://127.0.0.1:{env['PORT']}{p.fetch}", deadline)
            if proc.poll() is not None:
                out, err = proc.communicate()
                return f"exited early ({proc.returncode}):\n{out[-2000:]}{err[-2000:]}"
            if status != 200:
                return f"GET {p.fetch}: {status} {body[-500:]}"
            lacking = [e for e in p.expect if e not in body]
            if not lacking:
                break
            if time.monotonic() >= deadline:
                return f"GET {p.fetch} lacks {lacking[0]!r}:\n{body[-2000:]}"
            time.sleep(0.1)
    finally:
        code = stop(proc)
    out, err = proc.communicate()
    if code != 0:
        return f"after SIGTERM: exit {code} (expected 0)\n{out[-1000:]}{err[-1000:]}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--flags", default="")
    ap.add_argument("--include", required=True)
    ap.add_argument("--lib", action="append", default=[], help="NAME=PATH of a built library")
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", help="run only the program of this name")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    libs = dict(item.split("=", 1) for item in args.lib)
    os.makedirs(args.work, exist_ok=True)

    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".md"))
        else:
            files.append(p)
    problems, programs = [], []
    for f in files:
        programs += extract(f, problems)
    names = {}
    for p in programs:
        if p.name in names:
            problems.append(f"{p.where()}: program name {p.name} also used at {names[p.name]}")
        names[p.name] = p.where()

    passed, failed = 0, 0
    for msg in problems:
        print(f"FAIL: {msg}")
        failed += 1
    for p in programs:
        if args.only and p.name != args.only:
            continue
        start = time.monotonic()
        why = run_one(p, args, libs)
        took = time.monotonic() - start
        if why is None:
            passed += 1
            print(f"ok   {p.name} ({p.where()}, {took:.1f} s)")
        elif why.startswith("needs libraries") and not os.environ.get("CI"):
            print(f"skip {p.name} ({p.where()}): {why}")
        else:
            failed += 1
            print(f"FAIL {p.name} ({p.where()}): {why}")
    if not programs and not problems:
        print("FAIL: no marked programs found")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
