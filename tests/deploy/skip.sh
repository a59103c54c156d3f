# skip.sh - sourced by the deploy test scripts: skip_or_fail MESSAGE exits 77
# (skipped) on a developer's machine and 1 under CI, where every tool must be
# installed.
#
# SPDX-License-Identifier: MIT
skip_or_fail() {
    if [ -n "${CI:-}" ]; then
        echo "FAIL (CI is set): $*"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}
