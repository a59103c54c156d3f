/* test_expose_parsers.c - every exposition parses with the Python client's parsers.
 *
 * Each registry of expose_corpus.h is written in OpenMetrics (with and
 * without _created) and fed to the strict OpenMetrics parser of
 * python3-prometheus-client, and in text 0.0.4 to its text parser, through
 * tests/tools/om_check.py, which also checks what those parsers let through:
 * one group per family, no duplicate series, cumulative buckets ending in a
 * +Inf bucket equal to _count. Histograms whose buckets or sum OpenMetrics
 * calls counters are checked on their own. Without /usr/bin/python3 and
 * the module the program skips (and fails under CI).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expose_corpus.h"
#include "expose_tools.h"
#include "harness.h"
#include "vitals.h"

static void check_registry(const char *name, vt_registry_t *reg) {
    static const struct {
        vt_format_t format;
        int created;
        const char *parser;
    } runs[] = {{VT_FORMAT_OPENMETRICS, 0, "openmetrics"},
                {VT_FORMAT_OPENMETRICS, 1, "openmetrics"},
                {VT_FORMAT_TEXT, 0, "text"}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        char *text = tools_scrape(reg, runs[r].format, runs[r].created);
        CHECK(text != NULL);
        char what[128];
        snprintf(what, sizeof what, "registry \"%s\" (%s%s)", name, runs[r].parser,
                 runs[r].created ? ", _created" : "");
        if (text && !tools_python_check(what, runs[r].parser, text, NULL))
            CHECK(0);
        free(text);
    }
}

static void test_corpus(void) {
    for (size_t i = 0; i < CORPUS_N; i++) {
        vt_registry_t *reg = NULL;
        CHECK_INT(corpus[i].build(&reg), 0);
        if (!reg)
            continue;
        check_registry(corpus[i].name, reg);
        vt_registry_destroy(reg);
    }
}

/* OpenMetrics 1.0 (Histogram, Summary): "Semantically, Sum, and buckets
 * values are counters so MUST NOT be NaN or negative. Negative threshold
 * buckets MAY be used, but then the Histogram MetricPoint MUST NOT contain a
 * sum value"; a summary's Count and Sum likewise; "Quantile values MUST NOT be
 * negative". Each case below must be refused (at creation, at observation or
 * by the emitter) or written so that the strict parser accepts it. Each runs
 * in a registry of its own, so each failure is named. */
static vt_registry_t *negative_registry(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    if (reg)
        vt_registry_set_self_metrics(reg, 0);
    return reg;
}

static void test_negative_bucket_bound(void) {
    vt_registry_t *reg = negative_registry();
    static const double bounds[] = {-1, 0, 1};
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    int rc = vt_histogram_create(reg, "neg_bound_celsius", "Negative bucket bounds.", NULL, bounds,
                                 3, &h);
    CHECK(rc == 0 || rc == VT_EBUCKETS);
    if (rc == 0) {
        CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
        vt_histogram_observe(hs, 0.5);
    }
    check_registry("negative bucket bound", reg);
    vt_registry_destroy(reg);
}

static void test_negative_histogram_observation(void) {
    vt_registry_t *reg = negative_registry();
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    CHECK_INT(
        vt_histogram_create(reg, "neg_obs_celsius", "A negative observation.", NULL, NULL, 0, &h),
        0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    vt_histogram_observe(hs, -2);
    check_registry("negative histogram observation", reg);
    vt_registry_destroy(reg);
}

static void test_negative_summary_observation(void) {
    vt_registry_t *reg = negative_registry();
    vt_summary_t *s;
    vt_summary_series_t *ss;
    CHECK_INT(vt_summary_create(reg, "neg_obs_celsius", "A negative observation.", NULL, &s), 0);
    CHECK_INT(vt_summary_with(s, NULL, &ss), 0);
    vt_summary_observe(ss, -2);
    check_registry("negative summary observation", reg);
    vt_registry_destroy(reg);
}

static void test_nan_sum_from_infinities(void) {
    vt_registry_t *reg = negative_registry();
    vt_histogram_t *h;
    vt_histogram_series_t *hs;
    CHECK_INT(vt_histogram_create(reg, "inf_obs_celsius", "Observations of +Inf and -Inf.", NULL,
                                  NULL, 0, &h),
              0);
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    vt_histogram_observe(hs, INFINITY);
    vt_histogram_observe(hs, -INFINITY);
    check_registry("histogram sum +Inf + -Inf", reg);
    vt_registry_destroy(reg);
}

/* Collector output with values OpenMetrics forbids: the emitter must refuse
 * the family (counted as a collector error) or the writer must stay valid. */
enum { EMIT_HIST_NEG_SUM, EMIT_HIST_NAN_SUM, EMIT_SUMMARY_NEG_SUM, EMIT_SUMMARY_NEG_QUANTILE };

static int emit_forbidden(vt_emitter_t *e, void *ud) {
    static const double bounds[] = {1}, qs[] = {0.5}, negq[] = {-1}, posq[] = {1};
    static const uint64_t cum[] = {1};
    switch (*(const int *)ud) {
    case EMIT_HIST_NEG_SUM:
    case EMIT_HIST_NAN_SUM:
        vt_emit_family(e, VT_HISTOGRAM, "emitted_celsius", "Emitted.", NULL, NULL);
        vt_emit_histogram(e, NULL, bounds, cum, 1, 1,
                          *(const int *)ud == EMIT_HIST_NAN_SUM ? NAN : -2);
        break;
    case EMIT_SUMMARY_NEG_SUM:
        vt_emit_family(e, VT_SUMMARY, "emitted_celsius", "Emitted.", NULL, NULL);
        vt_emit_summary(e, NULL, 1, -2, qs, posq, 1);
        break;
    default:
        vt_emit_family(e, VT_SUMMARY, "emitted_celsius", "Emitted.", NULL, NULL);
        vt_emit_summary(e, NULL, 1, 2, qs, negq, 1);
    }
    return 0;
}

static void test_emitted_forbidden_values(void) {
    static const struct {
        int kind;
        const char *what;
    } cases[] = {{EMIT_HIST_NEG_SUM, "emitted histogram with a negative sum"},
                 {EMIT_HIST_NAN_SUM, "emitted histogram with a NaN sum"},
                 {EMIT_SUMMARY_NEG_SUM, "emitted summary with a negative sum"},
                 {EMIT_SUMMARY_NEG_QUANTILE, "emitted summary with a negative quantile value"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vt_registry_t *reg = negative_registry();
        CHECK_INT(vt_registry_add_collector(reg, NULL, emit_forbidden, (void *)&cases[i].kind, NULL,
                                            NULL),
                  0);
        check_registry(cases[i].what, reg);
        vt_registry_destroy(reg);
    }
}

/* The checker itself works: a broken exposition is refused. */
static void test_checker_catches_problems(void) {
    fprintf(stderr, "(the next two failures are expected)\n");
    CHECK(!tools_python_check("no EOF", "openmetrics", "# TYPE a counter\na_total 1\n", NULL));
    CHECK(!tools_python_check("split family", "text",
                              "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n", NULL));
}

int main(void) {
    if (!tools_have_python_client())
        SKIP_ALL("/usr/bin/python3 cannot import prometheus_client (python3-prometheus-client)");
    RUN(test_checker_catches_problems);
    RUN(test_corpus);
    RUN(test_negative_bucket_bound);
    RUN(test_negative_histogram_observation);
    RUN(test_negative_summary_observation);
    RUN(test_nan_sum_from_infinities);
    RUN(test_emitted_forbidden_values);
    tools_cleanup();
    TEST_EXIT();
}
