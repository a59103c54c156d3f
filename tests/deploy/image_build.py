#!/usr/bin/python3
"""image_build.py - the build stage of deploy/Dockerfile, run as a plain script on this machine.

Reads the Dockerfile, copies into a scratch build context exactly what the
build stage's COPY lines bring in (so a file the build needs but the image
does not copy fails here), runs the stage's deploy/build.sh with the image's
paths mapped to scratch folders, and then checks the result as the runtime
stage will see it:

- every program a service of the compose file runs, and the image's CMD, is
  in bin/ and starts (`--help`) with no environment;
- the project's libraries resolve from the tree's own lib/ (RUNPATH);
- every other shared library the programs and libraries need belongs to a
  Debian package the runtime stage installs (this machine runs Debian 12, as
  the image does), or to libc6;
- the healthcheck's program is installed in the runtime stage.

WORK_DIR keeps the build tree between runs, so a second run only recompiles
what changed. Exit 0 pass, 1 fail, 77 skip (no dpkg, only outside CI).

Usage: image_build.py SOURCE_DIR WORK_DIR

SPDX-License-Identifier: MIT
"""
import glob
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import yaml

BASE_PACKAGES = {"libc6"}  # in every Debian image


def load_checker(src):
    spec = importlib.util.spec_from_file_location("check_compose",
                                                  os.path.join(src, "tools", "check-compose.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def apt_packages(runs):
    """Package names of the apt-get install commands of a stage."""
    out = set()
    for run in runs:
        for m in re.finditer(r"apt-get\s+install\s+((?:[^&;|]+))", run):
            for word in m.group(1).split():
                if not word.startswith("-") and re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", word):
                    out.add(word)
    return out


class Result:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}")
        return ok


def copy_context(src, ctx, copies):
    """Replay the build stage's COPY lines into ctx (the image's WORKDIR /src)."""
    if os.path.isdir(ctx):
        shutil.rmtree(ctx)
    os.makedirs(ctx)
    for sources, dest, _src_from in copies:
        if not dest.startswith("/src"):
            raise SystemExit(f"FAIL: COPY destination {dest} is outside /src")
        target = os.path.join(ctx, os.path.relpath(dest, "/src"))
        for s in sources:
            path = os.path.join(src, s)
            into = os.path.join(target, os.path.basename(s)) \
                if (dest.endswith("/") and not os.path.isdir(path)) else target
            if os.path.isdir(path):
                # copytree keeps mtimes, so make stays incremental.
                shutil.copytree(path, into, dirs_exist_ok=True)
            else:
                os.makedirs(os.path.dirname(into), exist_ok=True)
                shutil.copy2(path, into)


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True,
                         env={"LC_ALL": "C", "PATH": os.environ["PATH"]}).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def resolved(path):
    """soname -> resolved path, from ldd."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if m:
            libs[m.group(1)] = m.group(2)
        m = re.match(r"\s*(/\S+)\s+\(", line)  # the dynamic loader: a path, no "=>"
        if m:
            libs[os.path.basename(m.group(1))] = m.group(1)
    return libs


def owner(path):
    r = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
    if r.returncode != 0:
        r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return r.stdout.split(":", 1)[0].strip()


def check_build_packages(src, packages, res):
    """Every pkg-config module a component REQUIREs comes from a package the
    build stage installs (modules looked up on this Debian 12 machine)."""
    res.check({"build-essential", "cmake", "pkg-config"} <= packages,
              f"the build stage installs a compiler, cmake and pkg-config: {sorted(packages)}")
    if not shutil.which("dpkg") or not shutil.which("pkg-config"):
        return
    for cml in sorted(glob.glob(os.path.join(src, "src", "*", "CMakeLists.txt"))):
        text = open(cml, encoding="utf-8").read()
        for m in re.finditer(r"pkg_check_modules\(\s*\w+([^)]*)\)", text):
            words = m.group(1).split()
            if "REQUIRED" not in words:
                continue  # optional: the component steps aside without it
            for mod in words:
                if mod in ("REQUIRED", "QUIET", "IMPORTED_TARGET", "GLOBAL", "NO_CMAKE_PATH",
                           "NO_CMAKE_ENVIRONMENT_PATH"):
                    continue
                mod = re.split(r"[<>=]", mod)[0]
                r = subprocess.run(["pkg-config", "--variable=pcfiledir", mod],
                                   capture_output=True, text=True)
                pc = os.path.join(r.stdout.strip(), mod + ".pc")
                pkg = owner(pc) if r.returncode == 0 else None
                res.check(pkg in packages,
                          f"{os.path.relpath(cml, src)} requires {mod} ({pkg}); "
                          "the build stage must install it")


def main():
    if len(sys.argv) != 3:
        print("usage: image_build.py SOURCE_DIR WORK_DIR", file=sys.stderr)
        return 2
    src, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    res = Result()
    cc = load_checker(src)
    df = cc.Dockerfile(os.path.join(src, "deploy", "Dockerfile"))
    res.check(len(df.stages) >= 2, "the Dockerfile has a build stage and a runtime stage")
    build, final = df.stages[0], df.final()
    res.check(build["base"].startswith("debian:12") and final["base"].startswith("debian:12"),
              "both stages are Debian 12")

    runs = [r for r in build["runs"] if "deploy/build.sh" in r]
    if not res.check(len(runs) == 1, "one RUN of the build stage calls deploy/build.sh"):
        return 1
    words = shlex.split(runs[0])
    args = words[words.index("deploy/build.sh") + 1:]
    res.check(len(args) == 3 and args[0] == "/src", f"deploy/build.sh /src DEST BUILD: {args}")
    image_dest = args[1]
    res.check(any(s[2] == "build" and s[0] == [image_dest] for s in final["copies"]),
              f"the runtime stage copies {image_dest} from the build stage")

    check_build_packages(src, apt_packages(build["runs"]), res)

    ctx, dest, bdir = (os.path.join(work, d) for d in ("context", "dest", "build"))
    copy_context(src, ctx, [c for c in build["copies"] if not c[2]])
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    start = time.monotonic()
    env = dict(os.environ, JOBS=os.environ.get("JOBS", "2"))
    r = subprocess.run(["sh", "deploy/build.sh", ctx, dest, bdir], cwd=ctx, env=env,
                       capture_output=True, text=True)
    took = time.monotonic() - start
    if not res.check(r.returncode == 0, f"deploy/build.sh exit {r.returncode}"):
        print(r.stdout[-3000:], r.stderr[-3000:])
        return 1
    print(f"deploy/build.sh: {took:.1f} s")

    # The programs the stack runs from this image.
    compose = yaml.safe_load(open(os.path.join(src, "deploy", "docker-compose.yml")))
    programs = set()
    for svc in compose["services"].values():
        b = svc.get("build")
        dockerfile = b if isinstance(b, str) else (b or {}).get("dockerfile", "")
        if b and dockerfile.endswith("deploy/Dockerfile"):
            cmd = svc.get("command")
            cmd = shlex.split(cmd) if isinstance(cmd, str) else cmd
            if cmd:
                programs.add(cmd[0])
    if final["cmd"]:
        programs.add(shlex.split(final["cmd"].strip("[]").replace(",", " "))[0].strip('"'))
    res.check("reservations" in programs and "loadgen" in programs,
              f"the stack runs reservations and loadgen from the image: {sorted(programs)}")
    for p in sorted(programs):
        path = os.path.join(dest, "bin", p)
        if res.check(os.access(path, os.X_OK), f"{p} is in the image's bin/"):
            r = subprocess.run([path, "--help"], env={}, capture_output=True)
            res.check(r.returncode == 0, f"{p} --help starts with no environment")

    # Shared libraries: ours from lib/, the rest from the runtime packages.
    runtime = apt_packages(final["runs"])
    if not shutil.which("dpkg"):
        if os.environ.get("CI"):
            res.check(False, "dpkg is needed to map libraries to packages")
        else:
            print("note: no dpkg; runtime packages not checked")
            runtime = None
    files = [os.path.join(dest, "bin", f) for f in os.listdir(os.path.join(dest, "bin"))] + \
        [os.path.join(dest, "lib", f) for f in os.listdir(os.path.join(dest, "lib"))]
    seen = set()
    for f in files:
        libs = resolved(f)
        for soname in needed(f):
            path = libs.get(soname)
            if not res.check(path and path != "not", f"{os.path.basename(f)}: {soname} resolves"):
                continue
            if soname.startswith("libvitals"):
                res.check(os.path.realpath(path).startswith(os.path.join(dest, "lib") + "/"),
                          f"{soname} comes from the tree's lib/, not {path}")
                continue
            if runtime is None or soname in seen:
                continue
            seen.add(soname)
            pkg = owner(path)
            res.check(pkg in runtime or pkg in BASE_PACKAGES,
                      f"{soname} ({pkg}) is installed by the runtime stage: {sorted(runtime)}")

    for svc_name, svc in compose["services"].items():
        test = (svc.get("healthcheck") or {}).get("test") or []
        b = svc.get("build")
        if b and test and test[0] == "CMD" and runtime is not None:
            res.check(test[1] in runtime or os.path.exists(os.path.join(dest, "bin", test[1])),
                      f"{svc_name}: healthcheck program {test[1]} is in the image")

    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
