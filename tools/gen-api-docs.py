#!/usr/bin/python3
"""gen-api-docs.py - the API reference in docs/api/, generated from the doc blocks of include/.

One Markdown page per public header (docs/api/<header>.md) and an index
(docs/api/README.md). A page follows its header in reading order: the file's
opening comment, then each entry, an entry being a comment block and the
declarations right below it (up to the next blank line). Section comments
("---- name ----", "==== name ====") become headings. Every declared name
gets an anchor, so links like api/metrics.md#vt_counter_inc work.

The rule that --check enforces: every VT_EXTERN function has a doc block,
either the comment block right above its declaration group or a comment of
the same header that names it as a word (a shared block such as
"vt_timer_observe / vt_timer_observe_summary - ..."). --check also fails
when docs/api differs from what the headers give today.

Usage: tools/gen-api-docs.py [--check] [--out DIR] [--include DIR]

SPDX-License-Identifier: MIT
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAGS = ("Parameters:", "Returns:", "Return:", "Thread-safety:", "Ownership:", "Since:",
        "Threading:", "Example:")


class Entry:
    """A comment (doc, may be None) and the code lines right below it."""

    def __init__(self, doc, line):
        self.doc = doc
        self.code = []
        self.line = line  # 1-based line of the entry's start

    def names(self):
        code = "\n".join(self.code)
        flat = re.sub(r"/\*.*?\*/", " ", code, flags=re.S)
        out = []
        for m in re.finditer(r"VT_EXTERN\s+[^;]*?\b(vt_\w+)\s*\(", flat):
            out.append(("function", m.group(1)))
        for m in re.finditer(r"^#define\s+(\w+)", flat, re.M):
            out.append(("macro", m.group(1)))
        for m in re.finditer(r"\}\s*(\w+)\s*;", flat):
            out.append(("type", m.group(1)))
        for m in re.finditer(r"typedef\s+[^;{}]*?\(\s*\*\s*(\w+)\s*\)", flat):
            out.append(("type", m.group(1)))
        for m in re.finditer(r"typedef\s+(?:struct|enum|union)\s+\w+\s+(\w+)\s*;", flat):
            out.append(("type", m.group(1)))
        seen, uniq = set(), []
        for kind, name in out:
            if name.startswith(("vt__", "VT__")):
                continue  # internal: not part of the API
            if name not in seen:
                seen.add(name)
                uniq.append((kind, name))
        return uniq

    def functions(self):
        return [n for k, n in self.names() if k == "function"]


def comment_text(lines):
    """The text of a /* ... */ block: markers and the leading ' * ' removed."""
    text = "\n".join(lines).strip()
    text = re.sub(r"^/\*+", "", text)
    text = re.sub(r"\*+/$", "", text)
    out = []
    for ln in text.split("\n"):
        s = ln.rstrip()
        m = re.match(r"^\s*\* ?(.*)$", s)
        if m:
            s = m.group(1)
        elif out:
            s = s[1:] if s.startswith(" ") else s
        else:
            s = s.strip()
        out.append(s)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def parse_header(path):
    """(title, intro lines, entries) of a header."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i, n = 0, len(lines)
    # The file's opening comment.
    intro = []
    if lines and lines[0].startswith("/*"):
        j = 0
        while j < n and "*/" not in lines[j]:
            j += 1
        intro = comment_text(lines[: j + 1])
        i = j + 1
    skip = re.compile(r"^\s*(#\s*(ifndef|ifdef|endif|include|if|else|elif)\b|"
                      r"#define\s+VITALS(_\w+)?_H\s*$|extern \"C\" \{|\}\s*$)")
    entries = []
    cur = None
    depth = 0
    in_cplusplus = False
    while i < n:
        ln = lines[i]
        if re.match(r"^#ifdef __cplusplus", ln):
            in_cplusplus = True
        if in_cplusplus:
            if re.match(r"^#endif", ln):
                in_cplusplus = False
            i += 1
            continue
        if depth == 0 and not ln.strip():
            cur = None
            i += 1
            continue
        if depth == 0 and ln.startswith("/*"):
            j = i
            while j < n and "*/" not in lines[j]:
                j += 1
            cur = Entry(comment_text(lines[i: j + 1]), i + 1)
            entries.append(cur)
            i = j + 1
            continue
        if depth == 0 and skip.match(ln) and not ln.startswith("#define VT_"):
            i += 1
            continue
        if cur is None:
            cur = Entry(None, i + 1)
            entries.append(cur)
        cur.code.append(ln)
        depth += ln.count("{") - ln.count("}")
        # A multi-line macro continues while lines end in a backslash.
        while ln.rstrip().endswith("\\") and i + 1 < n:
            i += 1
            ln = lines[i]
            cur.code.append(ln)
        i += 1
    title = os.path.relpath(path, os.path.join(ROOT, "include")).replace(os.sep, "/")
    return title, intro, [e for e in entries if e.doc or e.code]


def undocumented(entries):
    """VT_EXTERN functions with neither a block above nor a block naming them."""
    named = set()
    for e in entries:
        if e.doc:
            named.update(re.findall(r"\bvt_\w+\b", "\n".join(e.doc)))
    out = []
    for e in entries:
        for f in e.functions():
            if not e.doc and f not in named:
                out.append((e.line, f))
    return out


def md_escape(s):
    s = s.replace("\\", "\\\\").replace("<", "&lt;")
    if re.match(r"^\s*#", s):
        s = "\\" + s.lstrip()
    return s


def render_doc(doc):
    """Comment lines to Markdown: indented runs become code blocks."""
    out, code = [], []

    def flush():
        if code:
            while code and not code[-1].strip():
                code.pop()
            indent = min(len(c) - len(c.lstrip()) for c in code if c.strip())
            out.append("```c")
            out.extend(c[indent:] for c in code)
            out.append("```")
            code.clear()

    for ln in doc:
        if ln.startswith("  ") and ln.strip():
            code.append(ln)
            continue
        if code and not ln.strip():
            code.append(ln)
            continue
        flush()
        # Tags in the middle of a line (e.g. "Thread-safety: ... Since: 0.1.0")
        # start a paragraph of their own, as tags at the start of a line do.
        for part in re.split(r"(?<=[.;)]) (?=(?:Thread-safety|Ownership|Since|Returns):)", ln):
            text = md_escape(part)
            for tag in TAGS:
                if text.startswith(tag):
                    text = f"**{tag}**" + text[len(tag):]
                    if out and out[-1].strip():
                        out.append("")
                    break
            out.append(text)
    flush()
    return out


def capitalize(text):
    """Sentence case, except for a first word that is a name (libvitals-http, vt_x)."""
    if re.match(r"^(lib|vt_|VT_)", text):
        return text
    return text[:1].upper() + text[1:]


def strip_names(doc, names):
    """Drop a leading "vt_a / vt_b - " that repeats the entry's own names."""
    if not doc:
        return doc
    m = re.match(r"^((?:\w+)(?:\s*/\s*\w+)*)\s+-\s+(.*)$", doc[0])
    if m and all(n in names for n in re.split(r"\s*/\s*", m.group(1))):
        rest = m.group(2)
        return [capitalize(rest)] + doc[1:]
    return doc


def first_sentence(lines):
    """The first paragraph's first sentence, on one line."""
    para = []
    for ln in lines:
        if not ln.strip():
            break
        para.append(ln.strip())
    text = " ".join(para)
    m = re.match(r"^(.*?\.)(\s|$)", text)
    return m.group(1) if m else text


def strip_intro(intro):
    """A header's opening comment without its "file.h - " prefix and SPDX line."""
    body = [ln for ln in intro if not ln.startswith("SPDX-License-Identifier")]
    while body and not body[-1].strip():
        body.pop()
    m = re.match(r"^\S+\.h\s+-\s+(.*)$", body[0]) if body else None
    if m:
        body = [capitalize(m.group(1))] + body[1:]
    return body


def section_title(doc):
    m = re.match(r"^[-=]{3,}\s*(.*?)\s*[-=]*$", doc[0]) if doc else None
    return m.group(1) if m else None


def render_page(path):
    title, intro, entries = parse_header(path)
    out = [f"# {title}", ""]
    out.append(f"<!-- generated by tools/gen-api-docs.py from include/{title}; do not edit -->")
    out.append("")
    if intro:
        body = strip_intro(intro)
        out.extend(render_doc(body))
        out.append("")
    out.append(f"`#include <{title}>`")
    out.append("")
    text = open(path, encoding="utf-8").read()
    includes = re.findall(r'^#include "(vitals/\w+\.h)"', text, re.M)
    if title == "vitals.h" and includes:
        out.append("It includes:")
        out.append("")
        for inc in includes:
            out.append(f"- [`{inc}`]({page_name(inc)})")
        out.append("")
    codes = re.findall(r'X\((\w+), (-\d+), "([^"]*)"\)', text)
    if codes:
        out += ["| code | value | `vt_strerror()` |", "|---|---|---|"]
        out += [f"| `VT_{n}` | {v} | {md_escape(m)} |" for n, v, m in codes]
        out.append("")
    for e in entries:
        names = e.names()
        sec = section_title(e.doc) if e.doc else None
        if sec is not None:
            out.append(f"## {md_escape(capitalize(sec))}")
            out.append("")
            body = e.doc[1:]
            while body and not body[0].strip():
                body.pop(0)
            if body:
                out.extend(render_doc(body))
                out.append("")
            if not e.code:
                continue
        elif not names and e.doc and not e.code:
            out.extend(render_doc(e.doc))
            out.append("")
            continue
        if names:
            for _kind, name in names:
                out.append(f'<a id="{name}"></a>')
            out.append("### " + ", ".join(f"`{nm}`" for _k, nm in names))
            out.append("")
        if e.code:
            out.append("```c")
            out.extend(ln.rstrip() for ln in e.code)
            out.append("```")
            out.append("")
        if e.doc and sec is None:
            out.extend(render_doc(strip_names(e.doc, [nm for _k, nm in names])))
            out.append("")
    while out and not out[-1]:
        out.pop()
    return title, intro, entries, "\n".join(out) + "\n"


def headers(include):
    hs = [os.path.join(include, "vitals.h")] if os.path.exists(os.path.join(include, "vitals.h")) \
        else []
    sub = os.path.join(include, "vitals")
    hs += sorted(os.path.join(sub, f) for f in os.listdir(sub) if f.endswith(".h"))
    return hs


def page_name(title):
    return os.path.basename(title)[:-2] + ".md" if title != "vitals.h" else "vitals.md"


def render_all(include):
    pages, index, problems = {}, [], []
    for h in headers(include):
        title, intro, entries, text = render_page(h)
        name = page_name(title)
        pages[name] = text
        index.append((title, name, first_sentence(strip_intro(intro)) if intro else "", entries))
        for line, f in undocumented(entries):
            problems.append(f"include/{title}:{line}: {f} has no doc block (none right above "
                            "its declaration group, and no comment of the header names it)")
    lines = ["# API reference", "",
             "<!-- generated by tools/gen-api-docs.py from include/; do not edit -->", "",
             "One page per public header, made from the doc blocks in the headers by",
             "`tools/gen-api-docs.py`. Edit the headers, then run it; the `docs_api` test",
             "fails when this folder is out of date or a function has no doc block.", "",
             "Conventions of every page: functions return 0 or a negative `VT_E*` code",
             "([error.md](error.md)); **Thread-safety** says which threads may call,",
             "**Ownership** whether a pointer is copied, borrowed or taken, **Since** the",
             "first version that has it.", "",
             "| header | what it holds |", "|---|---|"]
    for title, name, summary, _ in index:
        lines.append(f"| [{title}]({name}) | {md_escape(summary).replace('|', chr(92) + '|')} |")
    lines += ["", "## Functions", ""]
    funcs = sorted((f, name) for title, name, _s, entries in index
                   for e in entries for f in e.functions())
    for f, name in funcs:
        lines.append(f"- [`{f}`]({name}#{f})")
    pages["README.md"] = "\n".join(lines) + "\n"
    return pages, problems


def main():
    ap = argparse.ArgumentParser(description="Generate docs/api from include/.")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; fail on undocumented functions or stale pages")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "api"))
    ap.add_argument("--include", default=os.path.join(ROOT, "include"))
    ap.add_argument("--known", help="a file naming functions known to lack a doc block "
                    "(one per line, # comments): reported, not failed, until documented")
    args = ap.parse_args()
    pages, problems = render_all(args.include)
    if args.known:
        known = set()
        for ln in open(args.known, encoding="utf-8"):
            ln = ln.split("#", 1)[0].strip()
            if ln:
                known.add(ln)
        missing = {p.split(": ", 1)[1].split()[0]: p for p in problems}
        for name in sorted(known):
            if name not in missing:
                problems.append(f"{args.known}: {name} is listed as undocumented but has a doc "
                                "block now (or is gone): remove it from the list")
        for name, p in sorted(missing.items()):
            if name in known:
                print(f"known: {p}")
                problems.remove(p)
    for p in problems:
        print(p)
    if args.check:
        stale = []
        for name, text in sorted(pages.items()):
            path = os.path.join(args.out, name)
            try:
                have = open(path, encoding="utf-8").read()
            except OSError:
                have = None
            if have != text:
                stale.append(name)
        extra = sorted(f for f in (os.listdir(args.out) if os.path.isdir(args.out) else [])
                       if f.endswith(".md") and f not in pages)
        for name in stale:
            print(f"docs/api/{name} is out of date: run tools/gen-api-docs.py")
        for name in extra:
            print(f"docs/api/{name} belongs to no header: remove it")
        print(f"gen-api-docs: {len(pages) - 1} headers, {len(problems)} undocumented, "
              f"{len(stale) + len(extra)} stale")
        return 1 if problems or stale or extra else 0
    os.makedirs(args.out, exist_ok=True)
    for name, text in pages.items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(text)
    for f in os.listdir(args.out):
        if f.endswith(".md") and f not in pages:
            os.remove(os.path.join(args.out, f))
    print(f"gen-api-docs: wrote {len(pages)} pages in {os.path.relpath(args.out)}"
          + (f"; {len(problems)} undocumented" if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
