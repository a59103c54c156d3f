#!/usr/bin/env bash
# install-deps.sh - install the Debian packages (and npm modules) that building
# and testing vitals needs, and nothing when everything is already there.
#
# Fast path: one `dpkg -s` over the list; apt-get (and its `update`) runs only
# when a package is missing, through sudo when not root. Without apt-get the
# script names the missing packages and exits 1. When the repository has a
# package.json, `npm install` runs if node_modules is missing or older than
# package.json / package-lock.json; INSTALL_DEPS_NPM=0 leaves the npm modules
# (only tests use them) alone, as `make demo` does.
#
# SPDX-License-Identifier: MIT
set -euo pipefail

# Append to the group that fits (or start a new one with a comment).
PACKAGES=(
    # build and memory checking
    build-essential cmake pkg-config clang valgrind
    # Prometheus, promtool and the strict OpenMetrics parser
    prometheus python3-prometheus-client
    # libvitals-http: embedded server, gzip, TLS (certtool for its tests)
    libmicrohttpd-dev zlib1g-dev libgnutls28-dev gnutls-bin
    # libvitals-push (remote write also needs protobuf-c, below, and snappy),
    # and the servers its tests start: Pushgateway, carbon with whisper-fetch
    # (StatsD is the npm package in package.json, run with node)
    libcurl4-openssl-dev libsnappy-dev
    prometheus-pushgateway graphite-carbon python3-whisper nodejs
    # libvitals-proto: the protobuf-c runtime and protoc-c, which generates its messages
    libprotobuf-c-dev protobuf-c-compiler
    # libvitals-redis and the real server its tests start
    libhiredis-dev redis-server
    # the vitals CLI
    libjansson-dev libncurses-dev
    # load generation and the demo
    wrk curl tmux
    # the deploy checks: docker-compose.yml and provisioning read by tools/check-compose.py
    python3-yaml
)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf 'install-deps: %s\n' "$*"; }

# Prints the packages of the list that are not fully installed.
missing_packages() {
    local installed
    # dpkg -s reports every package it knows; "install ok installed" is the
    # only status that means usable (not removed with config files left).
    installed=$(dpkg -s "${PACKAGES[@]}" 2>/dev/null |
        awk '/^Package: / { p = $2 } /^Status: install ok installed/ { print p }' || true)
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        if ! grep -qxF "$pkg" <<<"$installed"; then
            printf '%s\n' "$pkg"
        fi
    done
}

install_packages() {
    local -a need=("$@")
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
        say "apt-get is not available; install these packages yourself:" >&2
        printf '  %s\n' "${need[@]}" >&2
        exit 1
    fi
    local -a sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            say "not root and no sudo; as root run: apt-get install ${need[*]}" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    say "installing: ${need[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${need[@]}"
}

# node_modules is stale when package.json or the lock file changed after the
# last install (npm rewrites node_modules/.package-lock.json on each install).
npm_needed() {
    local stamp=$root/node_modules/.package-lock.json
    [ -f "$root/package.json" ] || return 1
    [ -f "$stamp" ] || return 0
    [ "$root/package.json" -nt "$stamp" ] && return 0
    [ -f "$root/package-lock.json" ] && [ "$root/package-lock.json" -nt "$stamp" ] && return 0
    return 1
}

main() {
    local npm=${INSTALL_DEPS_NPM:-1}
    if [ "$npm" != 0 ] && [ -f "$root/package.json" ] && ! command -v npm >/dev/null 2>&1; then
        PACKAGES+=(npm)
    fi

    local -a need=()
    if command -v dpkg >/dev/null 2>&1; then
        mapfile -t need < <(missing_packages)
    else
        # Not Debian: every package counts as missing, which reports them.
        need=("${PACKAGES[@]}")
    fi
    if [ "${#need[@]}" -gt 0 ]; then
        install_packages "${need[@]}"
        mapfile -t need < <(missing_packages)
        if [ "${#need[@]}" -gt 0 ]; then
            say "still missing after apt-get: ${need[*]}" >&2
            exit 1
        fi
    fi

    if [ "$npm" != 0 ] && npm_needed; then
        say "npm install in $root"
        (cd "$root" && npm install --no-audit --no-fund)
        mkdir -p "$root/node_modules"
        touch "$root/node_modules/.package-lock.json"
    fi
}

main "$@"
