#!/usr/bin/python3
"""om_check.py - parse an exposition with the Python prometheus_client parsers and check it.

Usage: om_check.py FORMAT FILE [EXPECT]

FORMAT is "text" (prometheus_client.parser, text 0.0.4) or "openmetrics"
(prometheus_client.openmetrics.parser, the strict OpenMetrics 1.0 parser).
The file must be UTF-8 and parse completely. On top of the parser, every
family must appear once, every (sample name, label set) once, and every
histogram must have increasing "le" bounds, cumulative bucket counts and a
"+Inf" bucket equal to its _count (the text parser checks none of these;
OpenMetrics allows a histogram without _count and _sum, text 0.0.4 does not).

EXPECT, when given, lists what must come back byte for byte; values are hex
encoded UTF-8 so that any character survives the trip:
    help  <family name as parsed> <hex>       the family's HELP text
    label <sample name> <label name> <hex>    one expected value; the set of
                                              values of that label on samples
                                              of that name must equal the set
                                              of expected values
Exit status 0 when everything holds; 1 with the reasons on stdout otherwise.

SPDX-License-Identifier: MIT
"""
import math
import sys


def load_expectations(path):
    helps, labels = {}, {}
    with open(path, "rb") as f:
        for raw in f.read().decode("ascii").splitlines():
            parts = raw.split(" ")
            if not raw or raw.startswith("#"):
                continue
            if parts[0] == "help" and len(parts) == 3:
                helps[parts[1]] = bytes.fromhex(parts[2]).decode("utf-8")
            elif parts[0] == "label" and len(parts) == 4:
                value = bytes.fromhex(parts[3]).decode("utf-8")
                labels.setdefault((parts[1], parts[2]), set()).add(value)
            else:
                raise ValueError("bad expectation line: %r" % raw)
    return helps, labels


def check_structure(families, problems, openmetrics):
    seen_families = set()
    for fam in families:
        if fam.name in seen_families:
            problems.append("family %r appears twice (not contiguous)" % fam.name)
        seen_families.add(fam.name)
        seen_series = set()
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in seen_series:
                problems.append("duplicate series %s%r" % (s.name, s.labels))
            seen_series.add(key)
        if fam.type == "histogram":
            check_histogram(fam, problems, openmetrics)


def check_histogram(fam, problems, openmetrics):
    groups = {}
    for s in fam.samples:
        labels = dict(s.labels)
        le = labels.pop("le", None)
        g = groups.setdefault(tuple(sorted(labels.items())), {"buckets": [], "count": None})
        if s.name == fam.name + "_bucket":
            g["buckets"].append((float(le), s.value))
        elif s.name == fam.name + "_count":
            g["count"] = s.value
    for key, g in groups.items():
        bounds = [b for b, _ in g["buckets"]]
        counts = [c for _, c in g["buckets"]]
        where = "%s%r" % (fam.name, dict(key))
        if not bounds or not math.isinf(bounds[-1]):
            problems.append("%s: no +Inf bucket" % where)
            continue
        if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])):
            problems.append("%s: le bounds not increasing: %r" % (where, bounds))
        if any(c2 < c1 for c1, c2 in zip(counts, counts[1:])):
            problems.append("%s: buckets not cumulative: %r" % (where, counts))
        if g["count"] is None and openmetrics:
            continue  # OpenMetrics lets a histogram leave out _count and _sum
        if g["count"] is None or g["count"] != counts[-1]:
            problems.append("%s: _count %r differs from +Inf bucket %r" %
                            (where, g["count"], counts[-1]))


def check_expectations(families, helps, labels, problems):
    by_name = {fam.name: fam for fam in families}
    for name, want in sorted(helps.items()):
        fam = by_name.get(name)
        if fam is None:
            problems.append("no family %r (families: %r)" % (name, sorted(by_name)))
        elif fam.documentation != want:
            problems.append("HELP of %r: got %r, want %r" % (name, fam.documentation, want))
    got = {}
    for fam in families:
        for s in fam.samples:
            for lname, lvalue in s.labels.items():
                if (s.name, lname) in labels:
                    got.setdefault((s.name, lname), set()).add(lvalue)
    for key, want in sorted(labels.items()):
        have = got.get(key, set())
        for v in sorted(want - have):
            problems.append("%s{%s}: value missing: %r" % (key[0], key[1], shorten(v)))
        for v in sorted(have - want):
            problems.append("%s{%s}: unexpected value: %r" % (key[0], key[1], shorten(v)))


def shorten(v):
    return v if len(v) <= 200 else "%s...(%d chars)...%s" % (v[:80], len(v), v[-80:])


def main(argv):
    if len(argv) not in (3, 4) or argv[1] not in ("text", "openmetrics"):
        print(__doc__.split("\n\n")[1])
        return 2
    if argv[1] == "text":
        from prometheus_client.parser import text_string_to_metric_families
    else:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    with open(argv[2], "rb") as f:
        data = f.read()
    problems = []
    try:
        text = data.decode("utf-8")
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # any parser complaint is a failure
        print("%s parser rejected %s: %s: %s" % (argv[1], argv[2], type(e).__name__, e))
        return 1
    if data and not data.endswith(b"\n"):
        problems.append("the last line does not end in a newline")
    check_structure(families, problems, argv[1] == "openmetrics")
    if len(argv) == 4:
        helps, labels = load_expectations(argv[3])
        check_expectations(families, helps, labels, problems)
    for p in problems[:40]:
        print(p)
    if len(problems) > 40:
        print("... and %d more problems" % (len(problems) - 40))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
