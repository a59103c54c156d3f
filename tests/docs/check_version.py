#!/usr/bin/python3
"""check_version.py - the version is written in one place and everything agrees with it.

include/vitals/version.h is the source: its MAJOR.MINOR.PATCH numbers and
VT_VERSION_STRING must agree. The pkg-config files of the build, the output
of `vitals --version` and the newest entry of CHANGELOG.md must show the
same version, and no source, build or tool file may spell the version out
itself (the CMake project reads version.h). vt_version() is checked against
the header by tests/core/test_error.c.

Usage: check_version.py SOURCE_DIR BUILD_DIR [VITALS_CLI]

SPDX-License-Identifier: MIT
"""
import glob
import os
import re
import subprocess
import sys

SCANNED = ["src", "include", "cmake", "examples", "tools", "bench", "deploy", "tests",
           "CMakeLists.txt", "CMakePresets.json", "Makefile"]
# Lines that carry a version of something else, or the history of an API.
ALLOWED = re.compile(r"Since:?\s|Remote-Write-Version|version=\d|prometheus_client|"
                     r"\"version\":|apiVersion|schemaVersion")


def main():
    src, build = sys.argv[1], sys.argv[2]
    cli = sys.argv[3] if len(sys.argv) > 3 else None
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {what}")

    header = open(os.path.join(src, "include", "vitals", "version.h"), encoding="utf-8").read()
    nums = [re.search(rf"#define VT_VERSION_{p}\s+(\d+)", header) for p in ("MAJOR", "MINOR",
                                                                           "PATCH")]
    string = re.search(r'#define VT_VERSION_STRING\s+"([^"]+)"', header)
    if not all(nums) or not string:
        print("FAIL: version.h lacks VT_VERSION_MAJOR/MINOR/PATCH or VT_VERSION_STRING")
        print("0 passed, 1 failed")
        return 1
    version = string.group(1)
    check(".".join(m.group(1) for m in nums) == version,
          f"VT_VERSION_STRING {version} differs from MAJOR.MINOR.PATCH")

    pcs = glob.glob(os.path.join(build, "pkgconfig", "*.pc"))
    check(bool(pcs), f"no pkg-config files in {build}/pkgconfig")
    for pc in pcs:
        m = re.search(r"^Version:\s*(\S+)", open(pc, encoding="utf-8").read(), re.M)
        check(m and m.group(1) == version,
              f"{os.path.basename(pc)}: Version {m.group(1) if m else None}, not {version}")

    if cli:
        r = subprocess.run([cli, "--version"], capture_output=True, text=True)
        check(r.returncode == 0 and r.stdout.strip() == f"vitals {version}",
              f"vitals --version printed {r.stdout.strip()!r}")

    changelog = os.path.join(src, "CHANGELOG.md")
    if os.path.exists(changelog):
        m = re.search(r"^## (\d+\.\d+\.\d+)", open(changelog, encoding="utf-8").read(), re.M)
        check(m and m.group(1) == version,
              f"CHANGELOG.md's newest entry is {m.group(1) if m else None}, not {version}")
    else:
        check(False, "CHANGELOG.md is missing")

    pattern = re.compile(rf"(?<![\d.]){re.escape(version)}(?![\d.])")
    for item in SCANNED:
        root = os.path.join(src, item)
        paths = [root] if os.path.isfile(root) else [
            os.path.join(d, f) for d, dirs, files in os.walk(root)
            for f in files if not d.split(os.sep)[-1].startswith(("__pycache__", "."))]
        for path in paths:
            rel = os.path.relpath(path, src)
            if rel == os.path.join("include", "vitals", "version.h"):
                continue
            if rel.startswith(os.path.join("deploy", "fixtures")) or \
                    not rel.endswith((".c", ".h", ".txt", ".cmake", ".in", ".json", ".sh",
                                      ".py", ".yml", ".yaml", "Makefile", "Dockerfile")):
                continue
            try:
                lines = open(path, encoding="utf-8").read().split("\n")
            except (UnicodeDecodeError, OSError):
                continue
            for no, ln in enumerate(lines, 1):
                if pattern.search(ln) and not ALLOWED.search(ln):
                    check(False, f"{rel}:{no} spells the version out: {ln.strip()[:100]} "
                          "(read it from version.h)")
    print(f"version {version}: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
