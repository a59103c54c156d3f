/* test_top_prometheus.c - `vitals top` quantiles equal a real Prometheus's histogram_quantile().
 *
 * The test writes one histogram, qtest_seconds, with a series per case
 * (typical buckets, everything in +Inf, everything in the first bucket, no
 * observations, negative and zero bounds, counts going down, no +Inf
 * bucket, fractional counts such as rate() gives, a rank on a bucket
 * edge), serves it on 127.0.0.1, lets a real Prometheus scrape it, and asks
 * `promtool query instant` for histogram_quantile(q, qtest_seconds_bucket)
 * at several q. Each answer must equal vt__top_quantile() on the same
 * buckets (both NaN, or equal within 1e-12 relative). Needs prometheus and
 * promtool (Debian package prometheus) and python3: skips without them,
 * fails under CI.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/top.h"
#include "cli_run.h"
#include "harness.h"

#define MAXB 12

typedef struct qcase {
    const char *name;
    const char *le[MAXB]; /* as written in the exposition */
    double counts[MAXB];
    size_t n;
} qcase_t;

static const qcase_t cases[] = {
    {"typical",
     {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf"},
     {3, 10, 25, 40, 47, 49, 50, 50, 50},
     9},
    {"all_in_inf", {"0.1", "0.5", "+Inf"}, {0, 0, 7}, 3},
    {"first_only", {"0.1", "0.5", "+Inf"}, {9, 9, 9}, 3},
    {"empty", {"0.1", "0.5", "+Inf"}, {0, 0, 0}, 3},
    {"negative", {"-1", "0", "1", "+Inf"}, {10, 10, 20, 20}, 4},
    {"zero_first", {"0", "0.5", "+Inf"}, {4, 8, 8}, 3},
    {"bumpy", {"0.1", "0.5", "1", "+Inf"}, {10, 5, 20, 20}, 4},
    {"no_inf", {"0.1", "0.5", "1"}, {1, 2, 3}, 3},
    {"fractional", {"0.25", "0.5", "1", "+Inf"}, {0.3, 1.7, 2.2, 2.5}, 4},
    {"only_inf", {"+Inf"}, {5}, 1},
    {"edge", {"1", "2", "+Inf"}, {5, 10, 10}, 3},
    {"wide", {"0.001", "10", "1000", "+Inf"}, {1, 2, 999, 1000}, 4},
};
#define NCASES (sizeof cases / sizeof cases[0])

static const double qs[] = {0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1};
#define NQ (sizeof qs / sizeof qs[0])

static prom_server_t prom;
static char scratch[256];

static int write_fixture(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    fputs("# HELP qtest_seconds Quantile cases.\n# TYPE qtest_seconds histogram\n", f);
    for (size_t i = 0; i < NCASES; i++) {
        const qcase_t *c = &cases[i];
        for (size_t k = 0; k < c->n; k++) {
            fprintf(f, "qtest_seconds_bucket{case=\"%s\",le=\"%s\"} %.17g\n", c->name, c->le[k],
                    c->counts[k]);
        }
        fprintf(f, "qtest_seconds_sum{case=\"%s\"} 1\n", c->name);
        fprintf(f, "qtest_seconds_count{case=\"%s\"} %.17g\n", c->name, c->counts[c->n - 1]);
    }
    return fclose(f);
}

static double ours(const qcase_t *c, double q) {
    double le[MAXB];
    for (size_t k = 0; k < c->n; k++) {
        le[k] = strtod(c->le[k], NULL);
    }
    return vt__top_quantile(q, le, c->counts, c->n);
}

/* The value promtool printed for the case, or 0 when it printed none. */
static int theirs(const char *out, const char *name, double *v) {
    char key[64];
    snprintf(key, sizeof key, "case=\"%s\"", name);
    const char *p = strstr(out, key);
    if (!p) {
        return 0;
    }
    const char *arrow = strstr(p, "=> ");
    const char *eol = strchr(p, '\n');
    if (!arrow || (eol && arrow > eol)) {
        return 0;
    }
    *v = strtod(arrow + 3, NULL);
    return 1;
}

static int wait_for_data(void) {
    for (int i = 0; i < 300; i++) {
        run_result_t r;
        promql_instant(&prom, "count(qtest_seconds_bucket)", &r);
        int ok = r.status == 0 && strstr(r.out, "=>") != NULL;
        run_free(&r);
        if (ok) {
            return 0;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void test_against_prometheus(void) {
    int compared = 0;
    for (size_t qi = 0; qi < NQ; qi++) {
        char expr[128];
        snprintf(expr, sizeof expr, "histogram_quantile(%g, qtest_seconds_bucket)", qs[qi]);
        run_result_t r;
        CHECK_INT(promql_instant(&prom, expr, &r), 0);
        for (size_t i = 0; i < NCASES; i++) {
            double want, got = ours(&cases[i], qs[qi]);
            if (!theirs(r.out, cases[i].name, &want)) {
                fprintf(stderr, "no answer for %s in:\n%s\n", cases[i].name, r.out);
                CHECK(0);
                continue;
            }
            int same = (isnan(want) && isnan(got)) || want == got ||
                       fabs(want - got) <= 1e-12 * fabs(want);
            if (!same) {
                fprintf(stderr, "%s at q=%g: prometheus %.17g, vitals top %.17g\n", cases[i].name,
                        qs[qi], want, got);
            }
            CHECK(same);
            compared++;
        }
        run_free(&r);
    }
    CHECK_INT(compared, (int)(NQ * NCASES));
}

int main(void) {
    char tool[512];
    if (!find_tool("prometheus", NULL, tool, sizeof tool) ||
        !find_tool("promtool", NULL, tool, sizeof tool)) {
        SKIP_ALL("prometheus and promtool are needed (Debian package prometheus)");
    }
    char fixture[300];
    if (make_scratch(scratch, sizeof scratch, "top-prom") != 0) {
        fprintf(stderr, "no scratch directory\n");
        return 1;
    }
    snprintf(fixture, sizeof fixture, "%s/qtest.prom", scratch);
    if (write_fixture(fixture) != 0) {
        fprintf(stderr, "cannot write %s\n", fixture);
        return 1;
    }
    fixture_server_t srv;
    if (fixture_serve(&srv, fixture, "text/plain; version=0.0.4; charset=utf-8")) {
        remove_tree(scratch);
        SKIP_ALL("python3 could not serve a fixture on 127.0.0.1");
    }
    char config[512];
    snprintf(config, sizeof config,
             "global:\n  scrape_interval: 1s\n"
             "scrape_configs:\n  - job_name: q\n    scrape_interval: 1s\n"
             "    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
             srv.port);
    int rc = 1;
    if (prom_start(&prom, config) == 0) {
        if (wait_for_data() == 0) {
            RUN(test_against_prometheus);
            rc = 0;
        } else {
            fprintf(stderr, "prometheus never scraped the fixture\n");
        }
        prom_stop(&prom);
    }
    fixture_stop(&srv);
    remove_tree(scratch);
    if (rc) {
        return 1;
    }
    TEST_EXIT();
}
