#!/usr/bin/python3
"""test_check_compose.py - check-compose.py passes the real stack and names each broken reference.

Each case copies deploy/ (and docs/demo.md, which lists the stack's images)
into a scratch tree (the rest of the build context is linked, not copied),
breaks one thing, and expects exit 1 with a message that names the problem;
the unbroken copy and the real file must pass, images pinned and named in
docs/demo.md with the same tags.

Usage: test_check_compose.py SOURCE_DIR

SPDX-License-Identifier: MIT
"""
import os
import shutil
import subprocess
import sys
import tempfile

REDIS_HEALTH = '      test: ["CMD", "redis-cli", "ping"]\n'
DOCS = os.path.join("docs", "demo.md")
CONTEXT = ["CMakeLists.txt", "CMakePresets.json", "cmake", "include", "src", "examples"]


class Tree:
    """A scratch copy of deploy/ beside links to the source tree's build context."""

    def __init__(self, src, tmp):
        self.src = src
        self.root = tempfile.mkdtemp(dir=tmp)
        for name in CONTEXT:
            os.symlink(os.path.join(src, name), os.path.join(self.root, name))
        shutil.copytree(os.path.join(src, "deploy"), os.path.join(self.root, "deploy"))
        os.mkdir(os.path.join(self.root, "docs"))
        shutil.copy(os.path.join(src, DOCS), os.path.join(self.root, DOCS))
        self.compose = os.path.join(self.root, "deploy", "docker-compose.yml")
        self.docs = os.path.join(self.root, DOCS)

    def edit_docs(self, old, new):
        text = open(self.docs, encoding="utf-8").read()
        if old not in text:
            raise AssertionError(f"{DOCS} does not contain {old!r}")
        open(self.docs, "w", encoding="utf-8").write(text.replace(old, new))

    def path(self, rel):
        return os.path.join(self.root, "deploy", rel)

    def edit(self, rel, old, new, count=1):
        p = self.path(rel)
        text = open(p, encoding="utf-8").read()
        if old not in text:
            raise AssertionError(f"{rel} does not contain {old!r}")
        open(p, "w", encoding="utf-8").write(text.replace(old, new, count))

    def run(self, *extra):
        r = subprocess.run([sys.executable, os.path.join(self.src, "tools", "check-compose.py"),
                            *extra, self.compose], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr


def main():
    src = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="vt-compose-")
    passed = failed = 0

    def expect(name, tree, status, needle, *extra):
        nonlocal passed, failed
        code, out = tree.run(*extra)
        if code == status and (needle is None or needle in out):
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {name}: exit {code} (expected {status}), looking for {needle!r} in:")
            print("    " + out.replace("\n", "\n    "))

    try:
        real = subprocess.run([sys.executable, os.path.join(src, "tools", "check-compose.py"),
                               "--docs", os.path.join(src, DOCS),
                               os.path.join(src, "deploy", "docker-compose.yml")],
                              capture_output=True, text=True)
        if real.returncode == 0:
            passed += 1
        else:
            failed += 1
            print("FAIL: deploy/docker-compose.yml:\n" + real.stdout + real.stderr)

        expect("unbroken copy", Tree(src, tmp), 0, "every reference resolves")

        cases = [
            ("port on every interface",
             lambda t: t.edit("docker-compose.yml", '"${VITALS_BIND:-127.0.0.1}:8080:8080"',
                              '"8080:8080"'), "publishes on every interface"),
            ("port on 0.0.0.0",
             lambda t: t.edit("docker-compose.yml", '"${VITALS_BIND:-127.0.0.1}:9090:9090"',
                              '"0.0.0.0:9090:9090"'), "binds 0.0.0.0"),
            ("default of the bind variable",
             lambda t: t.edit("docker-compose.yml", "${VITALS_BIND:-127.0.0.1}:3000",
                              "${VITALS_BIND:-0.0.0.0}:3000"), "binds 0.0.0.0"),
            ("variable without default",
             lambda t: t.edit("docker-compose.yml", "${VITALS_BIND:-127.0.0.1}:3000",
                              "${VITALS_BIND}:3000"), "has no default"),
            ("same host port twice",
             lambda t: t.edit("docker-compose.yml", ":9090:9090", ":8080:9090"),
             "also published by"),
            ("service without healthcheck",
             lambda t: t.edit("docker-compose.yml", REDIS_HEALTH, "      disable: true\n"),
             "services.redis: no healthcheck"),
            ("health wait on a service without healthcheck",
             lambda t: t.edit("docker-compose.yml", REDIS_HEALTH, "      disable: true\n"),
             "waits for health, but redis"),
            ("healthcheck program not in the image",
             lambda t: t.edit("docker-compose.yml", '["CMD", "curl", "-fsS"',
                              '["CMD", "wget", "-fsS"'),
             "wget is not installed in the final stage"),
            ("unknown depends_on",
             lambda t: t.edit("docker-compose.yml", "      redis:\n        condition",
                              "      rediss:\n        condition"), "rediss is not a service"),
            ("unknown network_mode service",
             lambda t: t.edit("docker-compose.yml", '"service:reservations"', '"service:ghost"'),
             "names no service"),
            ("missing Dockerfile",
             lambda t: t.edit("docker-compose.yml", "dockerfile: deploy/Dockerfile",
                              "dockerfile: deploy/Nofile"), "does not exist"),
            ("missing build context",
             lambda t: t.edit("docker-compose.yml", "context: ..", "context: ../nowhere"),
             "is not a directory"),
            ("COPY of a missing source",
             lambda t: t.edit("Dockerfile", "COPY examples /src/examples",
                              "COPY samples /src/samples"), "COPY source samples"),
            ("RUN of a script no COPY brings",
             lambda t: t.edit("Dockerfile", "COPY deploy/build.sh /src/deploy/build.sh\n", ""),
             "RUN calls deploy/build.sh"),
            ("runtime stage as root",
             lambda t: t.edit("Dockerfile", "USER 10001:10001", "USER root"), "runs as root"),
            ("missing mounted file",
             lambda t: os.remove(t.path("prometheus/prometheus.yml")),
             "mounted host path ./prometheus/prometheus.yml does not exist"),
            ("undeclared named volume",
             lambda t: t.edit("docker-compose.yml", "  prometheus-data:\n", ""),
             "'prometheus-data' is not declared"),
            ("rule file not mounted",
             lambda t: t.edit("prometheus/prometheus.yml", "  - rules.yml", "  - alerts.yml"),
             "rule file alerts.yml"),
            ("scrape target not a service",
             lambda t: t.edit("prometheus/prometheus.yml", "reservations:8080", "booking:8080"),
             "booking:8080 is not a service"),
            ("scrape port the service does not listen on",
             lambda t: t.edit("prometheus/prometheus.yml", "reservations:8080",
                              "reservations:9100"), "does not listen on 9100"),
            ("home dashboard missing",
             lambda t: t.edit("docker-compose.yml", "dashboards/reservations.json",
                              "dashboards/home.json"), "HOME_DASHBOARD_PATH"),
            ("provisioning apiVersion",
             lambda t: t.edit("grafana/provisioning/datasources/prometheus.yaml",
                              "apiVersion: 1", "apiVersion: 2"), "apiVersion is 2"),
            ("no datasource provisioning",
             lambda t: os.remove(t.path("grafana/provisioning/datasources/prometheus.yaml")),
             "no datasources/*.yaml"),
            ("datasource URL names no service",
             lambda t: t.edit("grafana/provisioning/datasources/prometheus.yaml",
                              "http://prometheus:9090", "http://prom:9090"), "names no service"),
            ("dashboard folder not mounted",
             lambda t: t.edit("grafana/provisioning/dashboards/provider.yaml",
                              "/etc/grafana/dashboards", "/var/lib/grafana/dashboards"),
             "not mounted from an existing folder"),
            ("dashboard not JSON",
             lambda t: open(t.path("grafana/dashboards/reservations.json"), "a").write("}"),
             "not JSON"),
        ]
        for name, breaker, needle in cases:
            t = Tree(src, tmp)
            breaker(t)
            expect(name, t, 1, needle)

        t = Tree(src, tmp)
        expect("--bind 0.0.0.0 refuses 127.0.0.1", t, 1, "binds 127.0.0.1", "--bind", "0.0.0.0")

        # Image pins, and the versions docs/demo.md gives.
        t = Tree(src, tmp)
        expect("unbroken copy, with the docs", t, 0, "images pinned: debian:12.6 ", "--docs",
               t.docs)
        pins = [
            ("image without a tag",
             lambda t: t.edit("docker-compose.yml", "image: redis:7.0.15", "image: redis"),
             "image redis has no tag"),
            ("image at latest",
             lambda t: t.edit("docker-compose.yml", "prom/prometheus:v2.53.0",
                              "prom/prometheus:latest"), "uses 'latest'"),
            ("image at a major version",
             lambda t: t.edit("docker-compose.yml", "grafana/grafana:11.1.0", "grafana/grafana:11"),
             "tag '11' is not an explicit version"),
            ("FROM at a major version",
             lambda t: t.edit("Dockerfile", "FROM debian:12.6 AS build", "FROM debian:12 AS build"),
             "FROM: image debian:12: tag '12' is not an explicit version"),
            ("FROM at a release name",
             lambda t: t.edit("Dockerfile", "debian:12.6-slim", "debian:bookworm-slim"),
             "tag 'bookworm-slim' is not an explicit version"),
            ("FROM without a tag",
             lambda t: t.edit("Dockerfile", "FROM debian:12.6 AS build", "FROM debian AS build"),
             "image debian has no tag"),
            ("image from a variable",
             lambda t: t.edit("docker-compose.yml", "image: redis:7.0.15",
                              "image: ${REDIS_IMAGE:-redis}"), "image redis has no tag"),
        ]
        for name, breaker, needle in pins:
            t = Tree(src, tmp)
            breaker(t)
            expect(name, t, 1, needle)
        t = Tree(src, tmp)
        t.edit("Dockerfile", "FROM debian:12.6 AS build", "FROM debian@sha256:" + "ab" * 32 +
               " AS build")
        expect("FROM by digest", t, 0, "debian@sha256:abab")
        t = Tree(src, tmp)
        t.edit("Dockerfile", "FROM debian:12.6 AS build", "FROM debian@sha256:abc AS build")
        expect("FROM by a short digest", t, 1, "digest is not sha256:<64 hex>")
        t = Tree(src, tmp)
        t.edit("Dockerfile", "FROM debian:12.6 AS build",
               "FROM --platform=linux/amd64 debian:12 AS build")
        expect("FROM with a flag", t, 1, "FROM: image debian:12:")

        docs_cases = [
            ("docs give another version",
             lambda t: t.edit_docs("`redis:7.0.15`", "`redis:7.0.12`"),
             "names redis:7.0.12, but the stack uses redis:7.0.15"),
            ("docs leave an image out",
             lambda t: t.edit_docs("`grafana/grafana:11.1.0`", "Grafana"),
             "does not name grafana/grafana:11.1.0"),
            ("stack bumped, docs not",
             lambda t: t.edit("docker-compose.yml", "prom/prometheus:v2.53.0",
                              "prom/prometheus:v2.54.1"),
             "names prom/prometheus:v2.53.0, but the stack uses prom/prometheus:v2.54.1"),
        ]
        for name, breaker, needle in docs_cases:
            t = Tree(src, tmp)
            breaker(t)
            expect(name, t, 1, needle, "--docs", t.docs)

        t = Tree(src, tmp)
        open(t.compose, "w").write("services: [\n")
        expect("not YAML", t, 2, None)
        open(t.compose, "w").write("version: '3'\n")
        expect("no services", t, 1, "no services")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
