#!/usr/bin/python3
"""check_links.py - every relative link of the Markdown docs leads somewhere.

For each [text](target) and <a href="target"> in the files given (outside
code blocks and code spans): a relative file target must exist; a #fragment
must name a heading (GitHub's slug rules) or an <a id="..."> of the target
page. Web links are not fetched.

Usage: check_links.py FILE_OR_DIR...

SPDX-License-Identifier: MIT
"""
import os
import re
import sys

LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HREF = re.compile(r"<a\s+href=\"([^\"]+)\"")


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path in cache:
        return cache[path]
    found, counts, in_code = set(), {}, False
    for ln in open(path, encoding="utf-8"):
        if ln.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", ln)
        if m:
            s = slug(m.group(1))
            n = counts.get(s, 0)
            counts[s] = n + 1
            found.add(s if n == 0 else f"{s}-{n}")
        found.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", ln))
    cache[path] = found
    return found


def links(path):
    in_code = False
    for no, ln in enumerate(open(path, encoding="utf-8"), 1):
        if ln.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        ln = re.sub(r"`[^`]*`", "", ln)
        for m in LINK.finditer(ln):
            yield no, m.group(1)
        for m in HREF.finditer(ln):
            yield no, m.group(1)


def main():
    files = []
    for p in sys.argv[1:]:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".md"))
        elif os.path.exists(p):
            files.append(p)
    passed = failed = 0
    for f in files:
        for no, target in links(f):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # http:, https:, mailto:
            file_part, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(f), file_part)) if file_part \
                else f
            if not os.path.exists(dest):
                print(f"FAIL: {os.path.relpath(f)}:{no}: {target}: {file_part} does not exist")
                failed += 1
                continue
            if frag and dest.endswith(".md") and frag not in anchors(dest):
                print(f"FAIL: {os.path.relpath(f)}:{no}: {target}: no heading or anchor "
                      f"#{frag} in {os.path.relpath(dest)}")
                failed += 1
                continue
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
