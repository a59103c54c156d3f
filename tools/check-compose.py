#!/usr/bin/python3
"""check-compose.py - check a docker compose file and what it refers to, without Docker.

What holds after a clean run: the file parses; every service has an image or
a build whose context and Dockerfile exist, and whose Dockerfile's COPY
sources exist in the context; every bind-mounted host path exists and every
named volume is declared; every published port binds to 127.0.0.1 (or the
address given with --bind); every service has a healthcheck, and for an image
built here its program is installed in the final stage; depends_on and
network_mode name real services; the final stage does not run as root. With
the stack's configs mounted, it also follows them: Prometheus rule files and
scrape targets, Grafana's provisioning files (apiVersion 1), the dashboard
folder they name and the home dashboard path.

Every image pulled (a service's image: without build:, each Dockerfile FROM
that is not an earlier stage) must be pinned: a digest (@sha256:...) or a
tag that is an explicit version with at least major.minor (7.0.15,
v2.53.0, 12.6-slim); no tag (which means latest), "latest", a major alone
("7") or a name ("bookworm") are problems. With --docs FILE (repeatable),
the files must name every pinned image with the same tag (`redis:7.0.15`),
and every name:tag they give for an image of the stack must be the one used.

Variables are interpolated as compose does, from their defaults
(${VAR:-default}, ${VAR-default}); the environment is not read, so the result
is what a user gets with nothing set. Problems are printed one per line;
exit status 0 clean, 1 problems, 2 usage or unreadable input.

Usage: tools/check-compose.py [--bind ADDR] [--docs FILE]... COMPOSE_FILE

SPDX-License-Identifier: MIT
"""
import argparse
import json
import os
import re
import shlex
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - reported to the user
    sys.stderr.write("check-compose: python3-yaml is missing (apt-get install python3-yaml)\n")
    sys.exit(2)

VAR = re.compile(r"\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}"
                 r"|([A-Za-z_][A-Za-z0-9_]*))")
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"
GRAFANA_PROVISIONING = "/etc/grafana/provisioning"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# An explicit version tag: major.minor at least, an optional "v" before and
# a variant after ("12.6-slim", "v2.53.0", "7.0.15-alpine").
VERSION_TAG = re.compile(r"v?\d+\.\d+(?:\.\d+)*(?:[-_+][A-Za-z0-9._-]+)?")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def split_image(ref):
    """(repository, tag or None, digest or None) of an image reference."""
    name, _, digest = ref.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:], digest or None
    return name, None, digest or None


def image_problem(ref):
    """Why ref is not pinned to an explicit version, or None."""
    if "$" in ref:
        return f"image {ref} is a variable; pin the image itself"
    repo, tag, digest = split_image(ref)
    if digest is not None:
        return None if DIGEST.fullmatch(digest) else f"image {ref}: digest is not sha256:<64 hex>"
    if tag is None:
        return f"image {ref} has no tag, which means latest; pin a version ({repo}:X.Y.Z)"
    if "latest" in tag.lower():
        return f"image {ref} uses {tag!r}, which moves; pin a version ({repo}:X.Y.Z)"
    if not VERSION_TAG.fullmatch(tag):
        return (f"image {ref}: tag {tag!r} is not an explicit version (major.minor at least, "
                f"such as {repo}:1.2.3)")
    return None


def interpolate(value, problems, where):
    """Compose interpolation with every variable unset: defaults only."""
    if isinstance(value, dict):
        return {k: interpolate(v, problems, where) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, problems, where) for v in value]
    if not isinstance(value, str):
        return value

    def one(m):
        if m.group(1) == "$":
            return "$"
        if m.group(5):
            problems.append(f"{where}: ${m.group(5)} has no default; use ${{{m.group(5)}:-...}}")
            return ""
        op, default = m.group(3), m.group(4)
        if op in (":-", "-"):
            return default
        problems.append(f"{where}: ${{{m.group(2)}}} has no default")
        return ""

    return VAR.sub(one, value)


def has_healthcheck(svc):
    hc = svc.get("healthcheck")
    if not hc or hc.get("disable"):
        return False
    test = hc.get("test")
    return bool(test) and test != ["NONE"] and test != "NONE"


class Dockerfile:
    """The parts of a Dockerfile this check reads: stages, COPY, RUN, USER."""

    def __init__(self, path):
        self.path = path
        self.stages = []  # dicts: name, base, copies [(sources, dest, from)], runs, user
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"\\\n", " ", text)  # line continuations
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            word, _, rest = line.partition(" ")
            word = word.upper()
            rest = rest.strip()
            if word == "FROM":
                parts = [w for w in rest.split() if not w.startswith("--")]
                name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
                self.stages.append({"name": name, "base": parts[0], "copies": [], "runs": [],
                                    "user": None, "cmd": None})
            elif not self.stages:
                continue
            elif word in ("COPY", "ADD"):
                args = shlex.split(rest)
                flags = [a for a in args if a.startswith("--")]
                paths = [a for a in args if not a.startswith("--")]
                src_from = None
                for f in flags:
                    if f.startswith("--from="):
                        src_from = f[len("--from="):]
                if len(paths) >= 2:
                    self.stages[-1]["copies"].append((paths[:-1], paths[-1], src_from))
            elif word == "RUN":
                self.stages[-1]["runs"].append(rest)
            elif word == "USER":
                self.stages[-1]["user"] = rest.split(":")[0]
            elif word == "CMD":
                self.stages[-1]["cmd"] = rest

    def final(self):
        return self.stages[-1] if self.stages else None


class Checker:
    def __init__(self, compose_path, bind, docs=()):
        self.path = os.path.abspath(compose_path)
        self.dir = os.path.dirname(self.path)
        self.bind = bind
        self.docs = list(docs)
        self.images = {}  # repository -> {pinned references}
        self.problems = []
        self.dockerfiles = {}

    def fail(self, msg):
        self.problems.append(msg)

    def host_path(self, p):
        return os.path.normpath(os.path.join(self.dir, os.path.expanduser(p)))

    # ---- one service ----------------------------------------------------

    def mounts(self, name, svc):
        """[(container_path, host_path or None for a volume)] of a service."""
        out = []
        declared = set((self.doc.get("volumes") or {}).keys())
        for i, v in enumerate(svc.get("volumes") or []):
            where = f"services.{name}.volumes[{i}]"
            if isinstance(v, dict):
                kind, src, dst = v.get("type", "volume"), v.get("source"), v.get("target")
            else:
                parts = str(v).split(":")
                if len(parts) == 1:
                    kind, src, dst = "volume", None, parts[0]
                else:
                    src, dst = parts[0], parts[1]
                    kind = "bind" if src.startswith((".", "/", "~")) else "volume"
            if not dst or not dst.startswith("/"):
                self.fail(f"{where}: target {dst!r} is not an absolute container path")
                continue
            if kind == "bind":
                host = self.host_path(src)
                if not os.path.exists(host):
                    self.fail(f"{where}: mounted host path {src} does not exist ({host})")
                out.append((os.path.normpath(dst), host))
            else:
                if src and src not in declared:
                    self.fail(f"{where}: named volume {src!r} is not declared under volumes:")
                out.append((os.path.normpath(dst), None))
        return out

    def resolve(self, mounts, container_path):
        """The host path a container path comes from, through the deepest bind mount."""
        best = None
        cp = os.path.normpath(container_path)
        for dst, host in mounts:
            if cp == dst or cp.startswith(dst.rstrip("/") + "/"):
                if best is None or len(dst) > len(best[0]):
                    best = (dst, host)
        if best is None or best[1] is None:
            return None
        return os.path.normpath(os.path.join(best[1], os.path.relpath(cp, best[0])))

    def check_build(self, name, svc):
        build = svc.get("build")
        if build is None:
            if not svc.get("image"):
                self.fail(f"services.{name}: neither image nor build")
            return None
        if isinstance(build, str):
            build = {"context": build}
        ctx = self.host_path(build.get("context", "."))
        if not os.path.isdir(ctx):
            self.fail(f"services.{name}.build.context: {ctx} is not a directory")
            return None
        dpath = os.path.normpath(os.path.join(ctx, build.get("dockerfile", "Dockerfile")))
        if not os.path.isfile(dpath):
            self.fail(f"services.{name}.build.dockerfile: {dpath} does not exist")
            return None
        if dpath not in self.dockerfiles:
            df = Dockerfile(dpath)
            self.dockerfiles[dpath] = df
            self.check_dockerfile(df, ctx)
        return self.dockerfiles[dpath]

    def check_dockerfile(self, df, ctx):
        rel = os.path.relpath(df.path, self.dir)
        if not df.stages:
            self.fail(f"{rel}: no FROM")
            return
        names = {s["name"] for s in df.stages if s["name"]}
        earlier = set()
        for s in df.stages:
            if s["base"] not in earlier:
                self.pulled(f"{rel}: FROM", s["base"])
            if s["name"]:
                earlier.add(s["name"])
        for s in df.stages:
            for sources, _dest, src_from in s["copies"]:
                if src_from:
                    if src_from not in names:
                        self.fail(f"{rel}: COPY --from={src_from} names no stage")
                    continue
                for src in sources:
                    if not os.path.exists(os.path.join(ctx, src)):
                        self.fail(f"{rel}: COPY source {src} is not in the build context {ctx}")
            brought = [src for sources, _d, src_from in s["copies"] if not src_from
                       for src in sources]
            for run in s["runs"]:
                for script in re.findall(r"(?:^|\s)((?:\./)?[\w./-]+\.sh)\b", run):
                    script = script.removeprefix("./")
                    if not any(src in (".", script) or script.startswith(src.rstrip("/") + "/")
                               for src in brought):
                        self.fail(f"{rel}: RUN calls {script}, which no COPY of its stage "
                                  "brings in")
        final = df.final()
        if final["user"] in (None, "", "root", "0"):
            self.fail(f"{rel}: the final stage runs as root (add USER)")

    def check_ports(self, name, svc):
        hosts = []
        for i, p in enumerate(svc.get("ports") or []):
            where = f"services.{name}.ports[{i}]"
            if isinstance(p, dict):
                ip, published, target = p.get("host_ip"), p.get("published"), p.get("target")
            else:
                s = str(p).split("/")[0]
                m = re.fullmatch(r"(?:(\[[^\]]*\]|[^:]*):)?(?:([0-9-]*):)?([0-9-]+)", s)
                if not m:
                    self.fail(f"{where}: cannot read {p!r}")
                    continue
                ip, published, target = m.group(1), m.group(2), m.group(3)
                if m.group(2) is None and m.group(1) is not None:
                    # "8080:8080": the first field was the host port, no address.
                    ip, published = None, m.group(1)
            if not ip:
                self.fail(f"{where}: {p!r} publishes on every interface; bind it: "
                          f"\"{self.bind}:{published or target}:{target}\"")
            elif ip.strip("[]") != self.bind.strip("[]"):
                self.fail(f"{where}: {p!r} binds {ip}, not {self.bind}")
            if published:
                hosts.append(str(published))
        return hosts

    def check_healthcheck(self, name, svc, df):
        hc = svc.get("healthcheck")
        if not hc or hc.get("disable"):
            # An image's own HEALTHCHECK is not visible here: state it in the file.
            self.fail(f"services.{name}: no healthcheck")
            return
        test = hc.get("test")
        if isinstance(test, str):
            test = ["CMD-SHELL", test]
        if not test or test[0] == "NONE" or len(test) < 2 or not str(test[1]).strip():
            self.fail(f"services.{name}.healthcheck.test: no command")
            return
        if test[0] not in ("CMD", "CMD-SHELL"):
            self.fail(f"services.{name}.healthcheck.test: starts with {test[0]!r}, "
                      "not CMD or CMD-SHELL")
            return
        if df and test[0] == "CMD":
            prog = os.path.basename(test[1])
            final = df.final()
            text = " ".join(final["runs"])
            if not re.search(rf"(?:^|\s){re.escape(prog)}(?:\s|$)", text):
                self.fail(f"services.{name}.healthcheck: {prog} is not installed in the final "
                          f"stage of {os.path.relpath(df.path, self.dir)}")

    # ---- images ----------------------------------------------------------

    def pulled(self, where, ref):
        """An image pulled from a registry: pinned, and remembered for --docs."""
        problem = image_problem(ref)
        if problem:
            self.fail(f"{where}: {problem}")
        else:
            self.images.setdefault(split_image(ref)[0], set()).add(ref)

    def check_docs(self):
        """Each pinned image named in the docs with its tag, and no other tag."""
        for path in self.docs:
            try:
                text = open(path, encoding="utf-8").read()
            except OSError as e:
                self.fail(f"--docs {path}: {e}")
                continue
            rel = os.path.relpath(path)
            for repo, refs in sorted(self.images.items()):
                pat = re.compile(r"(?<![\w./-])" + re.escape(repo) + r"(?::[\w.+-]+|@sha256:[0-9a-f]+)")
                named = {m.group(0).rstrip(".") for m in pat.finditer(text)}
                for ref in sorted(named - refs):
                    self.fail(f"{rel} names {ref}, but the stack uses "
                              f"{', '.join(sorted(refs))}")
                for ref in sorted(refs - named):
                    self.fail(f"{rel} does not name {ref}, which the stack uses")

    # ---- the configs the stack mounts -----------------------------------

    def check_prometheus(self, name, mounts, services):
        cfg_host = self.resolve(mounts, PROMETHEUS_CONFIG)
        if cfg_host is None:
            return
        if not os.path.isfile(cfg_host):
            return  # reported as a missing mount
        try:
            cfg = yaml.safe_load(open(cfg_host, encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            self.fail(f"{cfg_host}: not YAML: {e}")
            return
        base = os.path.dirname(PROMETHEUS_CONFIG)
        for rf in cfg.get("rule_files") or []:
            inside = rf if rf.startswith("/") else os.path.join(base, rf)
            host = self.resolve(mounts, inside)
            if host is None or not os.path.isfile(host):
                self.fail(f"services.{name}: rule file {rf} ({inside}) is not mounted from an "
                          "existing file")
        for sc in cfg.get("scrape_configs") or []:
            for st in sc.get("static_configs") or []:
                for target in st.get("targets") or []:
                    host, _, port = str(target).rpartition(":")
                    if host in LOOPBACK_HOSTS:
                        continue
                    if host not in services:
                        self.fail(f"prometheus job {sc.get('job_name')}: target {target} is not "
                                  "a service of the compose file")
                    elif port and not self.listens(services[host], port):
                        self.fail(f"prometheus job {sc.get('job_name')}: service {host} does "
                                  f"not listen on {port} (no port mapping or --port {port})")

    def listens(self, svc, port):
        for p in svc.get("ports") or []:
            if isinstance(p, dict):
                target = str(p.get("target"))
            else:
                target = str(p).split("/")[0].split(":")[-1]
            if target == port:
                return True
        cmd = svc.get("command") or []
        cmd = shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]
        return any(a == port and i > 0 and cmd[i - 1] == "--port" for i, a in enumerate(cmd)) or \
            any(a == f"--port={port}" for a in cmd) or \
            str(port) in [str(e) for e in svc.get("expose") or []]

    def check_grafana(self, name, svc, mounts, services):
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
        prov = env.get("GF_PATHS_PROVISIONING", GRAFANA_PROVISIONING)
        prov_host = self.resolve(mounts, prov)
        home = env.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
        if prov_host is None and home is None:
            return
        if home is not None:
            host = self.resolve(mounts, home)
            if host is None or not os.path.isfile(host):
                self.fail(f"services.{name}: GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH {home} "
                          "is not mounted from an existing file")
            else:
                self.check_json(host)
        if prov_host is None or not os.path.isdir(prov_host):
            return
        for kind, key in (("datasources", "datasources"), ("dashboards", "providers")):
            folder = os.path.join(prov_host, kind)
            files = sorted(f for f in os.listdir(folder) if f.endswith((".yaml", ".yml"))) \
                if os.path.isdir(folder) else []
            if not files:
                self.fail(f"services.{name}: no {kind}/*.yaml under the provisioning "
                          f"folder {prov_host}")
            for f in files:
                self.check_provisioning(name, os.path.join(folder, f), key, mounts, services)

    def check_provisioning(self, name, path, key, mounts, services):
        try:
            doc = yaml.safe_load(open(path, encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            self.fail(f"{path}: not YAML: {e}")
            return
        if doc.get("apiVersion") != 1:
            self.fail(f"{path}: apiVersion is {doc.get('apiVersion')!r}, not 1")
        items = doc.get(key)
        if not isinstance(items, list) or not items:
            self.fail(f"{path}: no {key}: list")
            return
        for item in items:
            if key == "datasources":
                url = str(item.get("url", ""))
                m = re.match(r"https?://([^/:]+)(?::(\d+))?", url)
                if not m:
                    self.fail(f"{path}: data source {item.get('name')!r} has no http URL")
                elif m.group(1) not in services and m.group(1) not in LOOPBACK_HOSTS:
                    self.fail(f"{path}: data source URL {url} names no service")
            else:
                folder = (item.get("options") or {}).get("path")
                host = self.resolve(mounts, folder) if folder else None
                if host is None or not os.path.isdir(host):
                    self.fail(f"{path}: provider {item.get('name')!r} reads {folder}, which is "
                              f"not mounted from an existing folder in service {name}")
                    continue
                dashboards = [f for f in os.listdir(host) if f.endswith(".json")]
                if not dashboards:
                    self.fail(f"{path}: no dashboard JSON in {host}")
                for d in dashboards:
                    self.check_json(os.path.join(host, d))

    def check_json(self, path):
        try:
            doc = json.load(open(path, encoding="utf-8"))
        except (OSError, ValueError) as e:
            self.fail(f"{path}: not JSON: {e}")
            return
        if not isinstance(doc, dict) or not doc.get("uid") or \
                not isinstance(doc.get("panels"), list):
            self.fail(f"{path}: not a dashboard (uid and panels expected)")

    # ---- the whole file ---------------------------------------------------

    def run(self):
        try:
            raw = yaml.safe_load(open(self.path, encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            sys.stderr.write(f"check-compose: {self.path}: {e}\n")
            return 2
        if not isinstance(raw, dict) or not isinstance(raw.get("services"), dict) \
                or not raw["services"]:
            self.fail("no services: mapping")
            return self.report()
        self.doc = interpolate(raw, self.problems, os.path.basename(self.path))
        services = self.doc["services"]
        published = {}
        for name, svc in services.items():
            svc = svc or {}
            df = self.check_build(name, svc)
            if svc.get("image") and not svc.get("build"):
                self.pulled(f"services.{name}.image", str(svc["image"]))
            elif not svc.get("image") and not svc.get("build"):
                self.fail(f"services.{name}: neither image nor build")
            mounts = self.mounts(name, svc)
            for port in self.check_ports(name, svc):
                if port in published:
                    self.fail(f"services.{name}: host port {port} is also published by "
                              f"{published[port]}")
                published[port] = name
            self.check_healthcheck(name, svc, df)
            deps = svc.get("depends_on") or []
            items = deps.items() if isinstance(deps, dict) else [(d, {}) for d in deps]
            for dep, spec in items:
                if dep not in services:
                    self.fail(f"services.{name}.depends_on: {dep} is not a service")
                    continue
                cond = (spec or {}).get("condition", "service_started")
                if cond not in CONDITIONS:
                    self.fail(f"services.{name}.depends_on.{dep}: unknown condition {cond}")
                if cond == "service_healthy" and not has_healthcheck(services[dep] or {}):
                    self.fail(f"services.{name}.depends_on.{dep}: waits for health, but {dep} "
                              "has no healthcheck")
            nm = svc.get("network_mode")
            if nm and nm.startswith("service:") and nm[len("service:"):] not in services:
                self.fail(f"services.{name}.network_mode: {nm} names no service")
            if nm and nm.startswith("service:") and svc.get("ports"):
                self.fail(f"services.{name}: ports cannot be published with network_mode {nm}")
            self.check_prometheus(name, mounts, services)
            self.check_grafana(name, svc, mounts, services)
        self.check_docs()
        return self.report(len(services))

    def report(self, count=0):
        rel = os.path.relpath(self.path)
        for p in self.problems:
            print(f"{rel}: {p}")
        if self.problems:
            print(f"check-compose: {len(self.problems)} problem(s)")
            return 1
        pinned = sorted(r for refs in self.images.values() for r in refs)
        print(f"check-compose: {rel}: {count} services, every reference resolves; "
              f"images pinned: {' '.join(pinned) or 'none'}")
        return 0


def main():
    ap = argparse.ArgumentParser(description="Check a docker compose file without Docker.")
    ap.add_argument("--bind", default="127.0.0.1",
                    help="the address every published port must bind (default 127.0.0.1)")
    ap.add_argument("--docs", action="append", default=[], metavar="FILE",
                    help="a document that must name every pinned image with its tag")
    ap.add_argument("compose_file")
    args = ap.parse_args()
    return Checker(args.compose_file, args.bind, args.docs).run()


if __name__ == "__main__":
    sys.exit(main())
