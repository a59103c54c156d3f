#!/usr/bin/python3
"""test_doc_tools.py - the documentation checks catch what they claim to catch.

tools/gen-api-docs.py --check on scratch headers: a function with a block
right above it, in a group under a block, or named by a block elsewhere
passes; one with none fails, and so does a stale page, a page without a
header, and a --known entry that is documented. run_doc_programs.py's
extraction: an unmarked main() block, a marker without a block, a marker over
a non-C block, a failing program and a missing expected output all fail.

Usage: test_doc_tools.py SOURCE_DIR CC FLAGS INCLUDE_DIR CORE_LIB

SPDX-License-Identifier: MIT
"""
import os
import shutil
import subprocess
import sys
import tempfile

HEADER = """/* vitals/demo.h - a scratch header for the checker.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_DEMO_H
#define VITALS_DEMO_H

/* vt_a - documented right above. Since: 0.1.0 */
VT_EXTERN int vt_a(void);

/* A group under one block. */
VT_EXTERN int vt_b(void);
VT_EXTERN int vt_c(void);

VT_EXTERN int vt_d(void);

/* vt_d is named here, so it counts as documented. */
%s
#endif
"""


def main():
    src, cc, flags, include, core = sys.argv[1:6]
    gen = os.path.join(src, "tools", "gen-api-docs.py")
    runner = os.path.join(src, "tests", "docs", "run_doc_programs.py")
    tmp = tempfile.mkdtemp(prefix="vt-doctools-")
    passed = failed = 0

    def expect(name, cmd, status, needle=None):
        nonlocal passed, failed
        r = subprocess.run(cmd, capture_output=True, text=True)
        out = r.stdout + r.stderr
        if r.returncode == status and (needle is None or needle in out):
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {name}: exit {r.returncode} (expected {status}), want {needle!r}:")
            print("    " + out.replace("\n", "\n    "))
        return out

    try:
        inc = os.path.join(tmp, "include")
        os.makedirs(os.path.join(inc, "vitals"))
        hpath = os.path.join(inc, "vitals", "demo.h")
        out_dir = os.path.join(tmp, "api")

        def header(extra):
            with open(hpath, "w") as f:
                f.write(HEADER % extra)

        header("")
        expect("documented header generates", [sys.executable, gen, "--include", inc, "--out",
                                               out_dir], 0, "wrote 2 pages")
        expect("fresh pages pass --check", [sys.executable, gen, "--check", "--include", inc,
                                            "--out", out_dir], 0, "0 undocumented, 0 stale")
        page = open(os.path.join(out_dir, "demo.md")).read()
        ok = all(f'<a id="{n}"></a>' in page for n in ("vt_a", "vt_b", "vt_c", "vt_d"))
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
        if not ok:
            print("FAIL: anchors missing in demo.md")

        header("\nVT_EXTERN int vt_e(int x);\n")
        expect("undocumented function fails", [sys.executable, gen, "--check", "--include", inc,
                                               "--out", out_dir], 1,
               "vt_e has no doc block")
        expect("stale page fails", [sys.executable, gen, "--check", "--include", inc, "--out",
                                    out_dir], 1, "demo.md is out of date")
        known = os.path.join(tmp, "known.txt")
        with open(known, "w") as f:
            f.write("# comment\nvt_e\n")
        subprocess.run([sys.executable, gen, "--include", inc, "--out", out_dir],
                       capture_output=True)
        expect("--known accepts a listed function", [sys.executable, gen, "--check", "--include",
                                                     inc, "--out", out_dir, "--known", known], 0,
               "known: ")
        with open(known, "a") as f:
            f.write("vt_a\n")
        expect("--known entry with a doc block fails",
               [sys.executable, gen, "--check", "--include", inc, "--out", out_dir, "--known",
                known], 1, "vt_a is listed as undocumented")
        with open(os.path.join(out_dir, "gone.md"), "w") as f:
            f.write("old\n")
        expect("page without header fails", [sys.executable, gen, "--check", "--include", inc,
                                             "--out", out_dir, "--known", known], 1,
               "gone.md belongs to no header")

        # The program runner.
        docs = os.path.join(tmp, "docs")
        os.makedirs(docs)
        base = [sys.executable, runner, "--cc", cc, "--flags", flags, "--include", include, "--lib",
                "core=" + core, "--work", os.path.join(tmp, "work")]

        def doc(text):
            with open(os.path.join(docs, "d.md"), "w") as f:
                f.write(text)

        good = ("<!-- program: good expect=vt-ok -->\n```c\n#include <stdio.h>\n"
                "#include <vitals.h>\nint main(void) {\n"
                "    printf(\"vt-ok %s\\n\", vt_version_string());\n    return 0;\n}\n```\n")
        doc(good)
        expect("a good program passes", base + [docs], 0, "1 passed, 0 failed")
        doc(good.replace("<!-- program: good expect=vt-ok -->\n", ""))
        expect("unmarked main() fails", base + [docs], 1, "has no <!-- program: NAME --> marker")
        doc("<!-- program: lonely -->\nSome prose.\n")
        expect("marker without block fails", base + [docs], 1, "not followed by a code block")
        doc("<!-- program: shell -->\n```sh\necho hi\n```\n")
        expect("marker over a non-C block fails", base + [docs], 1, "not ```c")
        doc(good.replace("return 0;", "return 3;"))
        expect("failing program fails", base + [docs], 1, "exit 3")
        doc(good.replace("expect=vt-ok", "expect=absent-text"))
        expect("missing output fails", base + [docs], 1, "output lacks 'absent-text'")
        doc(good.replace("printf(", "undeclared_call("))
        expect("a warning fails the compile", base + [docs], 1, "does not compile")
        doc(good + "\n" + good)
        expect("duplicate names fail", base + [docs], 1, "program name good also used")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
