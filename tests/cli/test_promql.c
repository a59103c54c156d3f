/* test_promql.c - every query `vitals dashboard` and `vitals rules` write runs on a real
 * Prometheus.
 *
 * A Prometheus on 127.0.0.1 scrapes three fixtures served over HTTP (the
 * demo service's exposition, the Python client's, and a service exposing only
 * a duration histogram with a status_code label, whose rates come from its
 * _count series) as job "x" every second.
 * Each panel query, with Grafana's variables substituted ($__rate_interval
 * 1m, $job x, $instance .*), goes through `promtool query instant`: it must
 * parse (the real PromQL parser) and return at least one series, which
 * proves that it names metrics and labels the service really exposes. The
 * expressions of the recording rules `vitals rules` writes go through the
 * same check.
 * Needs prometheus, promtool and python3: skips without them, fails under
 * CI.
 *
 * SPDX-License-Identifier: MIT
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_run.h"
#include "harness.h"

#define DEMO VT_TEST_DATA_DIR "/cli/demo.prom"
#define HIST_ONLY VT_TEST_DATA_DIR "/cli/histogram_only.prom"
#define PY_TEXT VT_SHARED_TESTDATA_DIR "/python-client/golden_text_0.0.4.txt"
#define TEXT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static prom_server_t prom;
static char scratch[256];

/* Run one query; it must succeed and, when want_data, return a series. */
static void run_query(const char *where, const char *expr, int want_data) {
    char *q = substitute_grafana_vars(expr);
    CHECK(q != NULL);
    if (!q) {
        return;
    }
    CHECK(strchr(q, '$') == NULL);
    run_result_t r;
    promql_instant(&prom, q, &r);
    int ok = r.status == 0 && (!want_data || strstr(r.out, "=>") != NULL);
    if (!ok) {
        fprintf(stderr, "%s: %s\n  status %d: %s%s\n", where, q, r.status, r.out, r.err);
    }
    CHECK(ok);
    run_free(&r);
    free(q);
}

/* Every target of every panel of a generated dashboard. */
static size_t run_dashboard(const char *input, const char *a1) {
    char out[400];
    snprintf(out, sizeof out, "%s/d.json", scratch);
    run_result_t r;
    run_vitals(&r, NULL, "dashboard", input, "-o", out, a1, NULL);
    CHECK_INT(r.status, 0);
    run_free(&r);
    json_t *root = json_load_file(out, 0, NULL);
    CHECK(root != NULL);
    size_t n = 0, i, k;
    json_t *p, *t;
    json_array_foreach(json_object_get(root, "panels"), i, p) {
        json_array_foreach(json_object_get(p, "targets"), k, t) {
            char where[300];
            snprintf(where, sizeof where, "%s panel %s", input,
                     json_string_value(json_object_get(p, "title")));
            run_query(where, json_string_value(json_object_get(t, "expr")), 1);
            n++;
        }
    }
    /* The variables' queries are label_values() calls, not PromQL: check
     * the metric selector inside them instead. */
    json_array_foreach(json_object_get(json_object_get(root, "templating"), "list"), i, p) {
        const char *q = json_string_value(json_object_get(p, "query"));
        if (q && strncmp(q, "label_values(", 13) == 0) {
            char sel[256];
            const char *comma = strrchr(q, ',');
            snprintf(sel, sizeof sel, "%.*s", comma ? (int)(comma - q - 13) : 0, q + 13);
            run_query("variable", sel, 1);
        }
    }
    json_decref(root);
    return n;
}

static void test_demo_queries(void) {
    CHECK(run_dashboard(DEMO, NULL) >= 17);
    CHECK(run_dashboard(DEMO, "--rate-window=2m") >= 17);
}

static void test_python_client_queries(void) {
    CHECK(run_dashboard(PY_TEXT, NULL) >= 7);
}

/* Rate, error ratio (by route and overall) and three quantiles. */
static void test_histogram_only_queries(void) {
    CHECK_INT(run_dashboard(HIST_ONLY, NULL), 6);
}

/* Undo the YAML double-quote escaping the rules use (\" and \\). */
static char *unquote(const char *p, const char *end) {
    char *out = malloc((size_t)(end - p) + 1), *o = out;
    for (; out && p < end; p++) {
        if (*p == '\\' && p + 1 < end) {
            p++;
        }
        *o++ = *p;
    }
    if (out) {
        *o = '\0';
    }
    return out;
}

/* Every recording rule's expression of the generated rules, as a query. */
static size_t run_rules(const char *input, const char *a1) {
    run_result_t r;
    run_vitals(&r, NULL, "rules", input, a1, NULL);
    CHECK_INT(r.status, 0);
    size_t n = 0;
    const char *marker = "- record: ";
    for (const char *p = strstr(r.out, marker); p; p = strstr(p + 1, marker)) {
        const char *e = strstr(p, "\n        expr: \"");
        const char *eol = e ? strchr(e + 1, '\n') : NULL;
        CHECK(e && eol);
        if (!e || !eol) {
            break;
        }
        char *expr = unquote(e + strlen("\n        expr: \""), eol - 1);
        char where[300];
        snprintf(where, sizeof where, "%s rule %.*s", input, (int)(strchr(p, '\n') - p), p);
        run_query(where, expr, 1);
        free(expr);
        n++;
    }
    run_free(&r);
    return n;
}

static void test_rule_queries(void) {
    CHECK_INT(run_rules(DEMO, NULL), 6);
    CHECK_INT(run_rules(DEMO, "--window=1m"), 6);
    CHECK_INT(run_rules(PY_TEXT, NULL), 3);
    CHECK_INT(run_rules(HIST_ONLY, NULL), 3);
}

/* The real parser refuses what is not PromQL: the check has teeth. */
static void test_parser_rejects(void) {
    run_result_t r;
    promql_instant(&prom, "sum by (le) (rate(x_bucket[1m])", &r);
    CHECK(r.status != 0);
    run_free(&r);
    promql_instant(&prom, "rate(x[$__rate_interval])", &r);
    CHECK(r.status != 0);
    run_free(&r);
}

/* Wait until the three targets are up and rate() over 1m has two points. */
static int wait_for_data(void) {
    for (int i = 0; i < 600; i++) {
        run_result_t r;
        promql_instant(&prom, "count(count_over_time(up{job=\"x\"}[1m]) >= 3)", &r);
        int ready = r.status == 0 && strstr(r.out, "=> 3 @") != NULL;
        run_free(&r);
        if (ready) {
            return 0;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int main(void) {
    char tool[512];
    if (!find_tool("prometheus", NULL, tool, sizeof tool) ||
        !find_tool("promtool", NULL, tool, sizeof tool)) {
        SKIP_ALL("prometheus and promtool are needed (Debian package prometheus)");
    }
    if (access(PY_TEXT, R_OK) != 0) {
        SKIP_ALL("the shared test data (../shared/testdata/python-client) is missing");
    }
    fixture_server_t demo, py, hist;
    if (fixture_serve(&demo, DEMO, TEXT_TYPE)) {
        SKIP_ALL("python3 could not serve a fixture on 127.0.0.1");
    }
    if (fixture_serve(&py, PY_TEXT, TEXT_TYPE)) {
        fixture_stop(&demo);
        SKIP_ALL("python3 could not serve a fixture on 127.0.0.1");
    }
    if (fixture_serve(&hist, HIST_ONLY, TEXT_TYPE)) {
        fixture_stop(&demo);
        fixture_stop(&py);
        SKIP_ALL("python3 could not serve a fixture on 127.0.0.1");
    }
    char config[1100];
    snprintf(config, sizeof config,
             "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
             "scrape_configs:\n  - job_name: x\n    scrape_interval: 1s\n"
             "    static_configs:\n"
             "      - targets: ['127.0.0.1:%d', '127.0.0.1:%d', '127.0.0.1:%d']\n",
             demo.port, py.port, hist.port);
    int rc = 1;
    if (make_scratch(scratch, sizeof scratch, "promql") == 0 && prom_start(&prom, config) == 0) {
        if (wait_for_data() == 0) {
            RUN(test_parser_rejects);
            RUN(test_demo_queries);
            RUN(test_python_client_queries);
            RUN(test_histogram_only_queries);
            RUN(test_rule_queries);
            rc = 0;
        } else {
            fprintf(stderr, "prometheus never scraped the three fixtures\n");
        }
        prom_stop(&prom);
    }
    fixture_stop(&demo);
    fixture_stop(&py);
    fixture_stop(&hist);
    remove_tree(scratch);
    if (rc) {
        return 1;
    }
    TEST_EXIT();
}
