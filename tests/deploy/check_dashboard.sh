#!/bin/sh
# check_dashboard.sh - the demo stack's dashboard passes Grafana's JSON schemas:
# ajv-cli against dashboard.jsonschema.json as a user runs it, then every
# panel and query through tests/cli/grafana_check.js. The schemas are read in
# place from the shared test data, never copied.
#
# Usage: check_dashboard.sh SOURCE_DIR SHARED_TESTDATA_DIR
#
# SPDX-License-Identifier: MIT
set -u
src=$1
schemas=$2/grafana
. "$(dirname "$0")/skip.sh"
[ -f "$schemas/dashboard.jsonschema.json" ] ||
    skip_or_fail "the Grafana schemas ($schemas) are missing"
command -v node >/dev/null 2>&1 || skip_or_fail "node is not installed"
ajv=$src/node_modules/.bin/ajv
[ -x "$ajv" ] || skip_or_fail "ajv is missing: run npm install at the repository root"

dash=$src/deploy/grafana/dashboards/reservations.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { # check NAME EXPECTED(0|nonzero) COMMAND...
    name=$1
    want=$2
    shift 2
    (cd "$src" && "$@") >"$tmp/out" 2>&1
    got=$?
    if { [ "$want" = 0 ] && [ "$got" -eq 0 ]; } || { [ "$want" != 0 ] && [ "$got" -ne 0 ]; }; then
        passed=$((passed + 1))
    else
        echo "FAIL: $name: exit $got"
        sed 's/^/    /' "$tmp/out"
        failed=$((failed + 1))
    fi
}

check "ajv dashboard schema" 0 "$ajv" validate -s "$schemas/dashboard.jsonschema.json" \
    -d "$dash" -c ajv-formats --spec=draft7 --strict=false
check "panels and queries" 0 node "$src/tests/cli/grafana_check.js" "$schemas" "$dash"

# The home dashboard of the stack must be this one, by uid, with panels.
check "uid and panels" 0 node -e '
const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
if (d.uid !== "reservations" || !Array.isArray(d.panels) || d.panels.length < 4) process.exit(1);
' "$dash"

# A dashboard that breaks the schema is refused.
node -e '
const fs = require("fs");
const d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
d.schemaVersion = "39";
fs.writeFileSync(process.argv[2], JSON.stringify(d));
' "$dash" "$tmp/bad.json"
check "broken dashboard refused" 1 "$ajv" validate -s "$schemas/dashboard.jsonschema.json" \
    -d "$tmp/bad.json" -c ajv-formats --spec=draft7 --strict=false

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
