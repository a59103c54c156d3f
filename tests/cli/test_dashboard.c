/* test_dashboard.c - `vitals dashboard`: rows, panels, queries, variables, options, provisioning.
 *
 * The dashboards of the demo fixture (HTTP middleware, Redis client, process
 * collector) and of the Python client's output are read back with jansson
 * and checked panel by panel: the expected queries exactly, units,
 * thresholds, the $datasource, $job and $instance variables, the filter on
 * every query, ids and a grid without overlaps. A service exposing only a
 * duration histogram (status in status_code) gets its rates from the
 * histogram's _count series. Schema validation and
 * running the queries are in test_dashboard_schema.c and test_promql.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "harness.h"

#define DEMO VT_TEST_DATA_DIR "/cli/demo.prom"
#define DEMO_OM VT_TEST_DATA_DIR "/cli/demo.om"
#define HIST_ONLY VT_TEST_DATA_DIR "/cli/histogram_only.prom"
#define PY_TEXT VT_SHARED_TESTDATA_DIR "/python-client/golden_text_0.0.4.txt"
#define FILTER "job=\"$job\", instance=~\"$instance\""

static char scratch[256];

/* Run `vitals dashboard <input> <args...> -o <scratch>/name` and load it. */
static json_t *generate(const char *name, const char *input, const char *a1, const char *a2,
                        const char *a3) {
    char out[400];
    snprintf(out, sizeof out, "%s/%s", scratch, name);
    run_result_t r;
    const char *args[8] = {"dashboard", input, "-o", out, a1, a2, a3, NULL};
    run_vitals(&r, NULL, args[0], args[1], args[2], args[3], args[4], args[5], args[6], NULL);
    if (r.status != 0) {
        fprintf(stderr, "vitals dashboard %s: status %d: %s\n", input, r.status, r.err);
    }
    CHECK_INT(r.status, 0);
    run_free(&r);
    json_error_t err;
    json_t *root = json_load_file(out, 0, &err);
    if (!root) {
        fprintf(stderr, "%s: %s (line %d)\n", out, err.text, err.line);
    }
    return root;
}

/* The panel with this title inside the row with this title (NULL: any). */
static json_t *panel(json_t *root, const char *row_title, const char *title) {
    json_t *panels = json_object_get(root, "panels");
    const char *row = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(panels, i, p) {
        const char *type = json_string_value(json_object_get(p, "type"));
        const char *t = json_string_value(json_object_get(p, "title"));
        if (type && strcmp(type, "row") == 0) {
            row = t;
            continue;
        }
        if (t && strcmp(t, title) == 0 && (!row_title || (row && strstr(row, row_title)))) {
            return p;
        }
    }
    return NULL;
}

static const char *expr_of(json_t *p, size_t i) {
    return json_string_value(
        json_object_get(json_array_get(json_object_get(p, "targets"), i), "expr"));
}

static const char *legend_of(json_t *p, size_t i) {
    return json_string_value(
        json_object_get(json_array_get(json_object_get(p, "targets"), i), "legendFormat"));
}

static const char *unit_of(json_t *p) {
    return json_string_value(
        json_object_get(json_object_get(json_object_get(p, "fieldConfig"), "defaults"), "unit"));
}

/* The red threshold step of a panel, or -1. */
static double threshold_of(json_t *p) {
    json_t *steps = json_object_get(
        json_object_get(json_object_get(json_object_get(p, "fieldConfig"), "defaults"),
                        "thresholds"),
        "steps");
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        const char *c = json_string_value(json_object_get(s, "color"));
        if (c && strcmp(c, "red") == 0) {
            return json_number_value(json_object_get(s, "value"));
        }
    }
    return -1;
}

static json_t *variable(json_t *root, const char *name) {
    json_t *list = json_object_get(json_object_get(root, "templating"), "list");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        if (n && strcmp(n, name) == 0) {
            return v;
        }
    }
    return NULL;
}

/* What every generated dashboard must have: modern schema, variables,
 * timeseries panels only, unique increasing ids, the filter on every
 * query, the $datasource on every panel and target, a grid without
 * overlap. */
static void check_structure(json_t *root) {
    CHECK(root != NULL);
    if (!root) {
        return;
    }
    CHECK(json_integer_value(json_object_get(root, "schemaVersion")) >= 39);
    json_t *ds = variable(root, "datasource");
    CHECK_STR(json_string_value(json_object_get(ds, "type")), "datasource");
    CHECK_STR(json_string_value(json_object_get(ds, "query")), "prometheus");
    json_t *job = variable(root, "job"), *inst = variable(root, "instance");
    CHECK_STR(json_string_value(json_object_get(job, "type")), "query");
    CHECK_CONTAINS(json_string_value(json_object_get(job, "query")), "label_values(");
    CHECK_CONTAINS(json_string_value(json_object_get(job, "query")), ", job)");
    CHECK_CONTAINS(json_string_value(json_object_get(inst, "query")), "{job=\"$job\"}, instance)");
    CHECK(json_is_true(json_object_get(inst, "includeAll")));
    CHECK_STR(json_string_value(json_object_get(inst, "allValue")), ".*");

    json_t *panels = json_object_get(root, "panels");
    CHECK(json_array_size(panels) > 0);
    long long last_id = 0;
    int cells[200][24];
    memset(cells, 0, sizeof cells);
    size_t i;
    json_t *p;
    json_array_foreach(panels, i, p) {
        const char *type = json_string_value(json_object_get(p, "type"));
        long long id = json_integer_value(json_object_get(p, "id"));
        CHECK(id == last_id + 1);
        last_id = id;
        json_t *g = json_object_get(p, "gridPos");
        long long x = json_integer_value(json_object_get(g, "x")),
                  y = json_integer_value(json_object_get(g, "y")),
                  w = json_integer_value(json_object_get(g, "w")),
                  h = json_integer_value(json_object_get(g, "h"));
        CHECK(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0 && y + h <= 200);
        for (long long r = y; r < y + h && r < 200; r++) {
            for (long long c = x; c < x + w && c < 24; c++) {
                CHECK(cells[r][c] == 0); /* no overlap */
                cells[r][c] = 1;
            }
        }
        CHECK(type != NULL);
        if (type && strcmp(type, "row") == 0) {
            continue;
        }
        CHECK_STR(type, "timeseries");
        CHECK_STR(json_string_value(json_object_get(json_object_get(p, "datasource"), "uid")),
                  "${datasource}");
        json_t *targets = json_object_get(p, "targets");
        CHECK(json_array_size(targets) > 0);
        size_t k;
        json_t *t;
        json_array_foreach(targets, k, t) {
            const char *e = json_string_value(json_object_get(t, "expr"));
            CHECK_CONTAINS(e, FILTER);
            CHECK_STR(json_string_value(json_object_get(json_object_get(t, "datasource"), "uid")),
                      "${datasource}");
            CHECK(json_string_value(json_object_get(t, "refId")) != NULL);
        }
    }
}

static void test_demo_panels(void) {
    json_t *root = generate("demo.json", DEMO, NULL, NULL, NULL);
    check_structure(root);
    if (!root) {
        return;
    }
    CHECK_STR(json_string_value(json_object_get(variable(root, "job"), "query")),
              "label_values(http_requests_total, job)");

    /* HTTP middleware: rate by route and method from the counter. */
    json_t *p = panel(root, "http_request", "Request rate");
    CHECK(p != NULL);
    CHECK_STR(expr_of(p, 0),
              "sum by (route, method) (rate(http_requests_total{" FILTER "}[$__rate_interval]))");
    CHECK_STR(legend_of(p, 0), "{{method}} {{route}}");
    CHECK_STR(unit_of(p), "reqps");
    /* Error ratio: 5xx over all, by route and overall; red above 5%. */
    p = panel(root, "http_request", "Error ratio");
    CHECK(p != NULL);
    CHECK_STR(
        expr_of(p, 0),
        "(sum by (route) (rate(http_requests_total{" FILTER
        ", code=~\"5..\"}[$__rate_interval])) or sum by (route) (rate(http_requests_total{" FILTER
        "}[$__rate_interval])) * 0) / sum by (route) (rate(http_requests_total{" FILTER
        "}[$__rate_interval]))");
    CHECK_CONTAINS(expr_of(p, 1), "(sum(rate(http_requests_total{" FILTER ", code=~\"5..\"}");
    CHECK_STR(unit_of(p), "percentunit");
    CHECK_DBL(threshold_of(p), 0.05);
    /* Duration: p50, p90, p99 from the buckets, by route. */
    p = panel(root, "http_request", "Duration");
    CHECK(p != NULL);
    CHECK_STR(expr_of(p, 0),
              "histogram_quantile(0.5, sum by (le, route) "
              "(rate(http_request_duration_seconds_bucket{" FILTER "}[$__rate_interval])))");
    CHECK_CONTAINS(expr_of(p, 1), "histogram_quantile(0.9, sum by (le, route) (rate(");
    CHECK_CONTAINS(expr_of(p, 2), "histogram_quantile(0.99, sum by (le, route) (rate(");
    CHECK_STR(legend_of(p, 2), "p99 {{route}}");
    CHECK_STR(unit_of(p), "s");
    CHECK_DBL(threshold_of(p), 0.5);

    /* Redis client: by operation; errors are status="error". */
    p = panel(root, "redis_call", "Request rate");
    CHECK_STR(expr_of(p, 0),
              "sum by (operation) (rate(redis_calls_total{" FILTER "}[$__rate_interval]))");
    p = panel(root, "redis_call", "Error ratio");
    CHECK_CONTAINS(expr_of(p, 0), "sum by (operation) (rate(redis_calls_total{" FILTER
                                  ", status=\"error\"}[$__rate_interval]))");
    p = panel(root, "redis_call", "Duration");
    CHECK_CONTAINS(expr_of(p, 2), "histogram_quantile(0.99, sum by (le, operation) "
                                  "(rate(redis_call_duration_seconds_bucket{");

    /* Saturation. */
    p = panel(root, "Saturation", "CPU");
    CHECK_STR(expr_of(p, 0),
              "sum by (instance) (rate(process_cpu_seconds_total{" FILTER "}[$__rate_interval]))");
    p = panel(root, "Saturation", "Resident memory");
    CHECK_STR(expr_of(p, 0), "sum by (instance) (process_resident_memory_bytes{" FILTER "})");
    CHECK_STR(unit_of(p), "bytes");
    p = panel(root, "Saturation", "File descriptors");
    CHECK_STR(expr_of(p, 0), "sum by (instance) (process_open_fds{" FILTER "})");
    CHECK_STR(expr_of(p, 1), "sum by (instance) (process_max_fds{" FILTER "})");
    p = panel(root, "Saturation", "In flight");
    CHECK_STR(expr_of(p, 0), "sum by (instance) (http_requests_in_flight{" FILTER "})");

    /* Two RED rows and the saturation row; nothing for non-RED families. */
    char *text = json_dumps(root, 0);
    CHECK_INT(count_of(text, "\"type\": \"row\""), 3);
    CHECK(strstr(text, "redis_errors_total") == NULL);
    CHECK(strstr(text, "vitals_errors_total") == NULL);
    free(text);
    json_decref(root);
}

/* A lone duration histogram with a status_code label, as a Python service
 * instrumented by hand exposes: rates and errors come from its _count. */
static void test_histogram_only_panels(void) {
    json_t *root = generate("hist.json", HIST_ONLY, NULL, NULL, NULL);
    check_structure(root);
    if (!root) {
        return;
    }
    CHECK_STR(json_string_value(json_object_get(variable(root, "job"), "query")),
              "label_values(api_request_duration_seconds_count, job)");
    json_t *p = panel(root, "api_request", "Request rate");
    CHECK(p != NULL);
    CHECK_STR(expr_of(p, 0),
              "sum by (route, method) (rate(api_request_duration_seconds_count{" FILTER
              "}[$__rate_interval]))");
    CHECK_STR(legend_of(p, 0), "{{method}} {{route}}");
    CHECK_STR(unit_of(p), "reqps");
    p = panel(root, "api_request", "Error ratio");
    CHECK(p != NULL);
    CHECK_STR(expr_of(p, 0),
              "(sum by (route) (rate(api_request_duration_seconds_count{" FILTER
              ", status_code=~\"5..\"}[$__rate_interval])) or sum by (route) "
              "(rate(api_request_duration_seconds_count{" FILTER
              "}[$__rate_interval])) * 0) / sum by (route) "
              "(rate(api_request_duration_seconds_count{" FILTER "}[$__rate_interval]))");
    CHECK_CONTAINS(expr_of(p, 1), "(sum(rate(api_request_duration_seconds_count{" FILTER
                                  ", status_code=~\"5..\"}");
    CHECK_STR(unit_of(p), "percentunit");
    CHECK_DBL(threshold_of(p), 0.05);
    p = panel(root, "api_request", "Duration");
    CHECK(p != NULL);
    CHECK_STR(expr_of(p, 0),
              "histogram_quantile(0.5, sum by (le, route) "
              "(rate(api_request_duration_seconds_bucket{" FILTER "}[$__rate_interval])))");
    CHECK_CONTAINS(expr_of(p, 2), "histogram_quantile(0.99, sum by (le, route) "
                                  "(rate(api_request_duration_seconds_bucket{");
    CHECK_STR(unit_of(p), "s");
    /* One RED row; the gauge and the _created series make none. */
    char *text = json_dumps(root, 0);
    CHECK_INT(count_of(text, "\"type\": \"row\""), 1);
    CHECK(strstr(text, "_created") == NULL);
    CHECK(strstr(text, "api_worker_queue_depth") == NULL);
    CHECK(strstr(text, ", code=") == NULL);
    free(text);
    json_decref(root);
}

static void test_python_client_panels(void) {
    if (access(PY_TEXT, R_OK) != 0) {
        SKIP_ALL("the shared test data (../shared/testdata/python-client) is missing");
    }
    json_t *root = generate("python.json", PY_TEXT, NULL, NULL, NULL);
    check_structure(root);
    if (!root) {
        return;
    }
    /* The counter carries code and path; the histogram only method. */
    json_t *p = panel(root, "http_request", "Request rate");
    CHECK_STR(expr_of(p, 0),
              "sum by (path, method) (rate(http_requests_total{" FILTER "}[$__rate_interval]))");
    p = panel(root, "http_request", "Error ratio");
    CHECK_CONTAINS(expr_of(p, 0),
                   "sum by (path) (rate(http_requests_total{" FILTER ", code=~\"5..\"}");
    p = panel(root, "http_request", "Duration");
    CHECK_STR(expr_of(p, 2),
              "histogram_quantile(0.99, sum by (le) "
              "(rate(http_request_duration_seconds_bucket{" FILTER "}[$__rate_interval])))");
    p = panel(root, "Saturation", "In flight");
    CHECK_STR(expr_of(p, 0), "sum by (instance) (inprogress_requests{" FILTER "})");
    /* Its Redis metric is a summary: no duration buckets, no RED row. */
    char *text = json_dumps(root, 0);
    CHECK(strstr(text, "redis_call") == NULL);
    free(text);
    json_decref(root);
}

/* The same service scraped as text or as OpenMetrics gives the same bytes,
 * and so does a second run. */
static void test_stable_output(void) {
    char a[400], b[400], c[400];
    snprintf(a, sizeof a, "%s/a.json", scratch);
    snprintf(b, sizeof b, "%s/b.json", scratch);
    snprintf(c, sizeof c, "%s/c.json", scratch);
    run_result_t r;
    run_vitals(&r, NULL, "dashboard", DEMO, "-o", a, NULL);
    run_free(&r);
    run_vitals(&r, NULL, "dashboard", DEMO, "-o", b, NULL);
    run_free(&r);
    run_vitals(&r, NULL, "dashboard", DEMO_OM, "-o", c, NULL);
    run_free(&r);
    char *ta = read_text(a, NULL), *tb = read_text(b, NULL), *tc = read_text(c, NULL);
    CHECK(ta && tb && tc);
    if (ta && tb && tc) {
        CHECK_STR(ta, tb);
        CHECK_STR(ta, tc);
    }
    free(ta);
    free(tb);
    free(tc);
    /* stdout without -o gives the same bytes too. */
    run_vitals(&r, NULL, "dashboard", DEMO, NULL);
    ta = read_text(a, NULL);
    CHECK(ta && strcmp(ta, r.out) == 0);
    free(ta);
    run_free(&r);
}

static void test_options(void) {
    json_t *root = generate("opts.json", DEMO, "--title=Checkout API", "--datasource=Prom EU",
                            "--rate-window=5m");
    if (root) {
        CHECK_STR(json_string_value(json_object_get(root, "title")), "Checkout API");
        CHECK_STR(json_string_value(json_object_get(root, "uid")), "checkout-api");
        json_t *cur = json_object_get(variable(root, "datasource"), "current");
        CHECK_STR(json_string_value(json_object_get(cur, "value")), "Prom EU");
        json_t *p = panel(root, "http_request", "Request rate");
        CHECK_CONTAINS(expr_of(p, 0), "}[5m]))");
        char *text = json_dumps(root, 0);
        CHECK(text && strstr(text, "$__rate_interval") == NULL);
        free(text);
    }
    json_decref(root);

    root = generate("uid.json", DEMO, "--uid=my-uid", "--include=redis_.*", "--no-saturation");
    if (root) {
        CHECK_STR(json_string_value(json_object_get(root, "uid")), "my-uid");
        char *text = json_dumps(root, 0);
        CHECK(strstr(text, "redis_calls_total") != NULL);
        CHECK(strstr(text, "http_requests_total") == NULL);
        CHECK(strstr(text, "Saturation") == NULL);
        CHECK_INT(count_of(text, "\"type\": \"row\""), 1);
        CHECK_STR(json_string_value(json_object_get(variable(root, "job"), "query")),
                  "label_values(redis_calls_total, job)");
        free(text);
    }
    json_decref(root);

    /* A family list, and --exclude. */
    root = generate("list.json", DEMO, "--include=http_request|redis_call", "--exclude=redis_.*",
                    "--error-ratio=0.01");
    if (root) {
        CHECK(panel(root, "http_request", "Error ratio") != NULL);
        CHECK(panel(root, "redis_call", "Error ratio") == NULL);
        CHECK_DBL(threshold_of(panel(root, "http_request", "Error ratio")), 0.01);
    }
    json_decref(root);

    run_result_t r;
    /* Nothing left to chart: exit 1. */
    run_vitals(&r, NULL, "dashboard", DEMO, "--include=nothing_matches", "--no-saturation", NULL);
    CHECK_INT(r.status, 1);
    CHECK_CONTAINS(r.err, "no RED family");
    run_free(&r);
    run_vitals(&r, NULL, "dashboard", VT_TEST_DATA_DIR "/cli/lint/counter_no_total.prom", NULL);
    CHECK_INT(r.status, 1);
    run_free(&r);
    /* Usage and input errors: 2. */
    run_vitals(&r, NULL, "dashboard", DEMO, "--rate-window=five", NULL);
    CHECK_INT(r.status, 2);
    run_free(&r);
    run_vitals(&r, NULL, "dashboard", DEMO, "--include=(", NULL);
    CHECK_INT(r.status, 2);
    run_free(&r);
    run_vitals(&r, NULL, "dashboard", DEMO, "--uid=", NULL);
    CHECK_INT(r.status, 2);
    run_free(&r);
    run_vitals(&r, NULL, "dashboard", "/nonexistent.prom", NULL);
    CHECK_INT(r.status, 2);
    run_free(&r);
    run_vitals(&r, NULL, "dashboard", VT_TEST_DATA_DIR "/cli/lint/syntax_error.prom", NULL);
    CHECK_INT(r.status, 2);
    CHECK_CONTAINS(r.err, "syntax_error.prom:3:");
    run_free(&r);
    run_vitals(&r, NULL, "dashboard", "--help", NULL);
    CHECK_INT(r.status, 0);
    const char *opts[] = {"--output",          "--title",        "--uid",
                          "--datasource",      "--include",      "--exclude",
                          "--rate-window",     "--error-ratio",  "--latency-p99",
                          "--no-saturation",   "--provisioning", "--prometheus-url",
                          "--dashboards-path", "--format",       "--timeout"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        CHECK_CONTAINS(r.out, opts[i]);
    }
    run_free(&r);
}

static void test_provisioning(void) {
    char out[400], prov[400], path[500];
    snprintf(out, sizeof out, "%s/dashboards/vitals.json", scratch);
    snprintf(path, sizeof path, "%s/dashboards", scratch);
    CHECK_INT(mkdir(path, 0700), 0);
    snprintf(prov, sizeof prov, "%s/provisioning/sub", scratch);
    run_result_t r;
    run_vitals(&r, NULL, "dashboard", DEMO, "-o", out, "--provisioning", prov,
               "--datasource=Prometheus \"main\"", "--prometheus-url=http://prometheus:9090", NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    snprintf(path, sizeof path, "%s/datasources.yaml", prov);
    char *ds = read_text(path, NULL);
    CHECK(ds != NULL);
    if (ds) {
        CHECK_CONTAINS(ds, "apiVersion: 1\ndatasources:\n  - name: \"Prometheus \\\"main\\\"\"\n");
        CHECK_CONTAINS(ds, "    type: \"prometheus\"\n");
        CHECK_CONTAINS(ds, "    url: \"http://prometheus:9090\"\n");
    }
    free(ds);
    snprintf(path, sizeof path, "%s/dashboards.yaml", prov);
    char *dash = read_text(path, NULL);
    CHECK(dash != NULL);
    if (dash) {
        CHECK_CONTAINS(dash, "apiVersion: 1\nproviders:\n  - name: \"vitals\"\n");
        CHECK_CONTAINS(dash, "    type: \"file\"\n");
        char want[600];
        char *real = realpath(scratch, NULL);
        snprintf(want, sizeof want, "      path: \"%s/dashboards\"\n", real ? real : scratch);
        free(real);
        CHECK_CONTAINS(dash, want);
    }
    free(dash);
    /* --dashboards-path names Grafana's own folder. */
    run_vitals(&r, NULL, "dashboard", DEMO, "-o", out, "--provisioning", prov,
               "--dashboards-path=/var/lib/grafana/dashboards", NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    dash = read_text(path, NULL);
    CHECK_CONTAINS(dash, "      path: \"/var/lib/grafana/dashboards\"\n");
    free(dash);
}

int main(void) {
    if (make_scratch(scratch, sizeof scratch, "dashboard")) {
        fprintf(stderr, "no scratch directory\n");
        return 1;
    }
    RUN(test_demo_panels);
    RUN(test_histogram_only_panels);
    RUN(test_stable_output);
    RUN(test_options);
    RUN(test_provisioning);
    RUN(test_python_client_panels);
    remove_tree(scratch);
    TEST_EXIT();
}
