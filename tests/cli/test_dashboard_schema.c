/* test_dashboard_schema.c - generated dashboards pass Grafana's JSON schemas, checked with ajv.
 *
 * Each dashboard goes through ajv-cli against dashboard.jsonschema.json
 * exactly as a user would run it (`ajv validate -s ... -d ... -c ajv-formats
 * --spec=draft7 --strict=false`), then through grafana_check.js, which
 * checks every panel against the Panel definition, the timeseries panel
 * schema (options, fieldConfig custom) and every target against the
 * Prometheus query schema. The schemas are read in place from the shared
 * test data. Needs node and `npm install` (ajv, ajv-cli, ajv-formats):
 * skips without them, fails under CI.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_run.h"
#include "harness.h"

#define SCHEMAS VT_SHARED_TESTDATA_DIR "/grafana"
#define PY VT_SHARED_TESTDATA_DIR "/python-client/"

static char scratch[256];
static char ajv[512], node[512];

#define MAX_FILES 8
static char files[MAX_FILES][400];
static size_t nfiles;

/* Generate one dashboard into the scratch directory for the checks below. */
static void generate(const char *input, const char *a1, const char *a2) {
    if (nfiles == MAX_FILES) {
        CHECK(0);
        return;
    }
    char *out = files[nfiles];
    snprintf(out, sizeof files[0], "%s/dashboard-%zu.json", scratch, nfiles);
    run_result_t r;
    run_vitals(&r, NULL, "dashboard", input, "-o", out, a1, a2, NULL);
    CHECK_INT(r.status, 0);
    if (r.status == 0) {
        nfiles++;
    }
    run_free(&r);
}

static void test_generate(void) {
    generate(VT_TEST_DATA_DIR "/cli/demo.prom", NULL, NULL);
    generate(VT_TEST_DATA_DIR "/cli/demo.om", "--datasource=Prometheus",
             "--title=Demo \"service\"");
    generate(VT_TEST_DATA_DIR "/cli/demo.prom", "--include=redis_call", "--no-saturation");
    generate(VT_TEST_DATA_DIR "/cli/demo.prom", "--rate-window=5m", NULL);
    generate(PY "golden_text_0.0.4.txt", NULL, NULL);
    generate(PY "golden_openmetrics_1.0.0.txt", NULL, NULL);
    generate(VT_TEST_DATA_DIR "/cli/histogram_only.prom", NULL, NULL);
    CHECK_INT(nfiles, 7);
}

/* ajv-cli against the dashboard schema, as a user runs it. */
static void test_ajv_dashboard_schema(void) {
    char *argv[8 + 2 * MAX_FILES];
    int n = 0;
    argv[n++] = ajv;
    argv[n++] = "validate";
    argv[n++] = "-s";
    argv[n++] = SCHEMAS "/dashboard.jsonschema.json";
    for (size_t i = 0; i < nfiles; i++) {
        argv[n++] = "-d";
        argv[n++] = files[i];
    }
    argv[n++] = "-c";
    argv[n++] = "ajv-formats";
    argv[n++] = "--spec=draft7";
    argv[n++] = "--strict=false";
    argv[n] = NULL;
    run_result_t r;
    run_argv(argv, NULL, VT_SOURCE_DIR, &r);
    if (r.status != 0) {
        fprintf(stderr, "ajv: %s%s\n", r.out, r.err);
    }
    CHECK_INT(r.status, 0);
    for (size_t i = 0; i < nfiles; i++) {
        char want[sizeof files[0] + 16];
        snprintf(want, sizeof want, "%.399s valid", files[i]);
        CHECK_CONTAINS(r.out, want);
    }
    run_free(&r);
}

/* Each panel against the Panel, timeseries and Prometheus query schemas. */
static void test_panel_schemas(void) {
    char *argv[4 + MAX_FILES];
    int n = 0;
    argv[n++] = node;
    argv[n++] = VT_SOURCE_DIR "/tests/cli/grafana_check.js";
    argv[n++] = SCHEMAS;
    for (size_t i = 0; i < nfiles; i++) {
        argv[n++] = files[i];
    }
    argv[n] = NULL;
    run_result_t r;
    run_argv(argv, NULL, VT_SOURCE_DIR, &r);
    if (r.status != 0) {
        fprintf(stderr, "grafana_check.js: %s%s\n", r.out, r.err);
    }
    CHECK_INT(r.status, 0);
    CHECK_INT(count_of(r.out, ": ok: "), nfiles);
    run_free(&r);
}

/* The checker itself must reject what Grafana's schemas reject. */
static void test_checker_rejects(void) {
    char bad[400];
    snprintf(bad, sizeof bad, "%s/bad.json", scratch);
    write_text(bad, "{\"schemaVersion\": 39, \"templating\": {\"list\": []}, \"annotations\": "
                    "{\"list\": []}, \"panels\": [{\"type\": \"timeseries\", \"id\": 1, "
                    "\"options\": {\"legend\": {\"displayMode\": \"bogus\", \"placement\": "
                    "\"bottom\", \"showLegend\": true, \"calcs\": []}, \"tooltip\": {\"mode\": "
                    "\"multi\", \"sort\": \"none\"}}, \"targets\": [{\"refId\": \"A\"}]}]}");
    run_result_t r;
    char *check_argv[] = {node, VT_SOURCE_DIR "/tests/cli/grafana_check.js", SCHEMAS, bad, NULL};
    run_argv(check_argv, NULL, VT_SOURCE_DIR, &r);
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.out, "/legend/displayMode");
    CHECK_CONTAINS(r.out, "must have required property 'expr'");
    run_free(&r);
    write_text(bad, "{\"schemaVersion\": \"39\", \"annotations\": {}}");
    char *ajv_argv[] = {ajv,
                        "validate",
                        "-s",
                        SCHEMAS "/dashboard.jsonschema.json",
                        "-d",
                        bad,
                        "-c",
                        "ajv-formats",
                        "--spec=draft7",
                        "--strict=false",
                        NULL};
    run_argv(ajv_argv, NULL, VT_SOURCE_DIR, &r);
    CHECK(r.status != 0);
    run_free(&r);
}

int main(void) {
    if (access(SCHEMAS "/dashboard.jsonschema.json", R_OK) != 0) {
        SKIP_ALL("the Grafana schemas (../shared/testdata/grafana) are missing");
    }
    if (!find_tool("node", NULL, node, sizeof node) || !find_ajv(ajv, sizeof ajv)) {
        SKIP_ALL("node and ajv are needed: run `npm install` at the repository root");
    }
    if (make_scratch(scratch, sizeof scratch, "schema")) {
        return 1;
    }
    RUN(test_generate);
    RUN(test_ajv_dashboard_schema);
    RUN(test_panel_schemas);
    RUN(test_checker_rejects);
    remove_tree(scratch);
    TEST_EXIT();
}
