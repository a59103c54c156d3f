/* test_collector.c - custom collectors: families emitted at scrape time,
 * validation of everything they emit, duplicate names, release hooks.
 *
 * An invalid family is dropped whole, the emit call reports why, the rest of
 * the scrape is intact, and vitals_errors_total{kind="collector"} counts one
 * per dropped family per scrape. Reading that counter runs a scrape too (it is
 * how vt_registry_get_sample_value works), so counts are compared as deltas
 * over scrapes this file makes itself.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

/* ---- a collector of every type ---- */

static int emit_all(vt_emitter_t *e, void *ud) {
    (void)ud;
    int rc = 0;
    rc |= vt_emit_family(e, VT_COUNTER, "c_ops_total", "Ops.", NULL, VT_LABELS("kind"));
    rc |= vt_emit_value(e, VT_VALUES("read"), 3);
    rc |= vt_emit_value(e, VT_VALUES("write"), 2.5);
    rc |= vt_emit_family(e, VT_GAUGE, "c_temp_celsius", "Temp.", "celsius", NULL);
    rc |= vt_emit_value(e, NULL, -4.25);
    static const double bounds[] = {0.1, 1};
    static const uint64_t cum[] = {1, 3};
    rc |= vt_emit_family(e, VT_HISTOGRAM, "c_lat", "Latency.", NULL, VT_LABELS("op"));
    rc |= vt_emit_histogram(e, VT_VALUES("get"), bounds, cum, 2, 4, 5.5);
    rc |= vt_emit_histogram(e, VT_VALUES("put"), bounds, cum, 2, 3, 1);
    static const double q[] = {0.5, 0.99}, qv[] = {0.2, 0.9};
    rc |= vt_emit_family(e, VT_SUMMARY, "c_sum", "Summary.", NULL, NULL);
    rc |= vt_emit_summary(e, NULL, 10, 4, q, qv, 2);
    rc |= vt_emit_family(e, VT_INFO, "c_build", "Build.", NULL, VT_LABELS("version"));
    rc |= vt_emit_value(e, VT_VALUES("1.0"), 12345); /* info ignores the value */
    rc |= vt_emit_family(e, VT_UNTYPED, "c_raw", NULL, NULL, NULL);
    rc |= vt_emit_value(e, NULL, 8);
    *(int *)ud = rc;
    return 0;
}

static void test_all_types(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    int rc = -1;
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_all, &rc, NULL, NULL), 0);
    char *text = scrape(reg);
    CHECK_INT(rc, 0);
    CHECK_LINE(text, "# TYPE c_ops_total counter");
    CHECK_LINE(text, "c_ops_total{kind=\"read\"} 3");
    CHECK_LINE(text, "c_ops_total{kind=\"write\"} 2.5");
    CHECK_LINE(text, "# TYPE c_temp_celsius gauge");
    CHECK_LINE(text, "c_temp_celsius -4.25");
    CHECK_LINE(text, "# TYPE c_lat histogram");
    CHECK_LINE(text, "c_lat_bucket{op=\"get\",le=\"0.1\"} 1");
    CHECK_LINE(text, "c_lat_bucket{op=\"get\",le=\"1\"} 3");
    CHECK_LINE(text, "c_lat_bucket{op=\"get\",le=\"+Inf\"} 4");
    CHECK_LINE(text, "c_lat_sum{op=\"get\"} 5.5");
    CHECK_LINE(text, "c_lat_count{op=\"get\"} 4");
    CHECK_LINE(text, "c_lat_bucket{op=\"put\",le=\"+Inf\"} 3");
    CHECK_LINE(text, "# TYPE c_sum summary");
    CHECK_LINE(text, "c_sum{quantile=\"0.5\"} 0.2");
    CHECK_LINE(text, "c_sum{quantile=\"0.99\"} 0.9");
    CHECK_LINE(text, "c_sum_sum 4");
    CHECK_LINE(text, "c_sum_count 10");
    CHECK_LINE(text, "c_build_info{version=\"1.0\"} 1");
    CHECK_LINE(text, "# TYPE c_raw untyped");
    CHECK_LINE(text, "c_raw 8");
    free(text);
    text = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK_LINE(text, "# TYPE c_ops counter");
    CHECK_LINE(text, "# UNIT c_temp_celsius celsius");
    CHECK_LINE(text, "# TYPE c_build info");
    CHECK_LINE(text, "# TYPE c_raw unknown");
    CHECK_LINE(text, "c_sum{quantile=\"0.5\"} 0.2");
    free(text);

    CHECK_DBL(sample(reg, "c_ops_total", VT_LABELS("kind"), VT_VALUES("write")), 2.5);
    CHECK_DBL(sample(reg, "c_temp_celsius", NULL, NULL), -4.25);
    const char *const ln[] = {"op", "le", NULL};
    const char *const lv[] = {"get", "1", NULL};
    CHECK_DBL(sample(reg, "c_lat_bucket", ln, lv), 3);
    CHECK_DBL(sample(reg, "c_lat_count", VT_LABELS("op"), VT_VALUES("put")), 3);
    CHECK_DBL(sample(reg, "c_sum", VT_LABELS("quantile"), VT_VALUES("0.99")), 0.9);
    CHECK_DBL(sample(reg, "c_sum_count", NULL, NULL), 10);
    CHECK_DBL(sample(reg, "c_build_info", VT_LABELS("version"), VT_VALUES("1.0")), 1);
    CHECK_DBL(sample(reg, "c_raw", NULL, NULL), 8);
    CHECK_DBL(errors_of_kind(reg, "collector"), 0);
    vt_registry_destroy(reg);
}

/* ---- invalid output, one case at a time ----
 *
 * Each case emits a good family before and after the bad one; the collector
 * records the first error code the bad family produced. */

typedef struct bad_case {
    const char *what;
    int want; /* the code the bad family's calls must return */
    int got;
} bad_case_t;

static int emit_bad(vt_emitter_t *e, void *ud) {
    bad_case_t *bc = ud;
    vt_emit_family(e, VT_GAUGE, "good_before", "h", NULL, NULL);
    vt_emit_value(e, NULL, 1);
    int rc = 0;
    const char *w = bc->what;
    static const double b2[] = {1, 2};
    if (strcmp(w, "name") == 0)
        rc = vt_emit_family(e, VT_GAUGE, "bad-name", "h", NULL, NULL);
    else if (strcmp(w, "name_digit") == 0)
        rc = vt_emit_family(e, VT_GAUGE, "1bad", "h", NULL, NULL);
    else if (strcmp(w, "info_name") == 0)
        rc = vt_emit_family(e, VT_INFO, "bad_info", "h", NULL, NULL);
    else if (strcmp(w, "label_name") == 0)
        rc = vt_emit_family(e, VT_GAUGE, "bad", "h", NULL, VT_LABELS("a-b"));
    else if (strcmp(w, "reserved") == 0)
        rc = vt_emit_family(e, VT_GAUGE, "bad", "h", NULL, VT_LABELS("__a"));
    else if (strcmp(w, "le") == 0)
        rc = vt_emit_family(e, VT_HISTOGRAM, "bad", "h", NULL, VT_LABELS("le"));
    else if (strcmp(w, "quantile") == 0)
        rc = vt_emit_family(e, VT_SUMMARY, "bad", "h", NULL, VT_LABELS("quantile"));
    else if (strcmp(w, "duplabel") == 0)
        rc = vt_emit_family(e, VT_GAUGE, "bad", "h", NULL, VT_LABELS("a", "a"));
    else if (strcmp(w, "help") == 0)
        rc = vt_emit_family(e, VT_GAUGE, "bad", "\xff", NULL, NULL);
    else if (strcmp(w, "unit") == 0)
        rc = vt_emit_family(e, VT_GAUGE, "bad", "h", "seconds", NULL);
    else if (strcmp(w, "type") == 0)
        rc = vt_emit_family(e, (vt_type_t)42, "bad", "h", NULL, NULL);
    else {
        /* Sample errors: a good sample first, so the whole family must go. */
        vt_type_t t = VT_GAUGE;
        if (strncmp(w, "hist", 4) == 0)
            t = VT_HISTOGRAM;
        else if (strncmp(w, "summary", 7) == 0)
            t = VT_SUMMARY;
        else if (strncmp(w, "counter", 7) == 0)
            t = VT_COUNTER;
        CHECK_INT(vt_emit_family(e, t, "bad", "h", NULL, VT_LABELS("k")), 0);
        static const uint64_t c2[] = {1, 2};
        static const double q1[] = {0.5}, v1[] = {1};
        if (t == VT_HISTOGRAM)
            CHECK_INT(vt_emit_histogram(e, VT_VALUES("ok"), b2, c2, 2, 2, 1), 0);
        else if (t == VT_SUMMARY)
            CHECK_INT(vt_emit_summary(e, VT_VALUES("ok"), 1, 1, q1, v1, 1), 0);
        else
            CHECK_INT(vt_emit_value(e, VT_VALUES("ok"), 1), 0);
        if (strcmp(w, "count_few") == 0)
            rc = vt_emit_value(e, NULL, 1);
        else if (strcmp(w, "count_many") == 0)
            rc = vt_emit_value(e, VT_VALUES("a", "b"), 1);
        else if (strcmp(w, "utf8") == 0)
            rc = vt_emit_value(e, VT_VALUES("\xed\xa0\x80"), 1);
        else if (strcmp(w, "counter_negative") == 0)
            rc = vt_emit_value(e, VT_VALUES("x"), -1);
        else if (strcmp(w, "counter_nan") == 0)
            rc = vt_emit_value(e, VT_VALUES("x"), NAN);
        else if (strcmp(w, "hist_decreasing") == 0) {
            static const uint64_t dec[] = {2, 1};
            rc = vt_emit_histogram(e, VT_VALUES("x"), b2, dec, 2, 3, 1);
        } else if (strcmp(w, "hist_above_total") == 0) {
            static const uint64_t above[] = {1, 5};
            rc = vt_emit_histogram(e, VT_VALUES("x"), b2, above, 2, 4, 1);
        } else if (strcmp(w, "hist_bounds") == 0) {
            static const double bb[] = {2, 1};
            rc = vt_emit_histogram(e, VT_VALUES("x"), bb, c2, 2, 2, 1);
        } else if (strcmp(w, "hist_other_bounds") == 0) {
            static const double bb[] = {1, 3};
            rc = vt_emit_histogram(e, VT_VALUES("x"), bb, c2, 2, 2, 1);
        } else if (strcmp(w, "hist_value") == 0)
            rc = vt_emit_value(e, VT_VALUES("x"), 1);
        else if (strcmp(w, "summary_quantile_high") == 0) {
            static const double q[] = {1.5}, v[] = {1};
            rc = vt_emit_summary(e, VT_VALUES("x"), 1, 1, q, v, 1);
        } else if (strcmp(w, "summary_quantile_negative") == 0) {
            static const double q[] = {-0.1}, v[] = {1};
            rc = vt_emit_summary(e, VT_VALUES("x"), 1, 1, q, v, 1);
        } else if (strcmp(w, "summary_quantile_order") == 0) {
            static const double q[] = {0.9, 0.5}, v[] = {1, 2};
            rc = vt_emit_summary(e, VT_VALUES("x"), 1, 1, q, v, 2);
        } else if (strcmp(w, "summary_hist") == 0)
            rc = vt_emit_histogram(e, VT_VALUES("x"), b2, c2, 2, 2, 1);
        else if (strcmp(w, "counter_summary") == 0) {
            static const double q[] = {0.5}, v[] = {1};
            rc = vt_emit_summary(e, VT_VALUES("x"), 1, 1, q, v, 1);
        }
    }
    bc->got = rc;
    /* After an error the family's samples are refused. */
    int after = vt_emit_value(e, VT_VALUES("y"), 1);
    if (after == 0)
        bc->got = 1000;
    vt_emit_family(e, VT_GAUGE, "good_after", "h", NULL, NULL);
    vt_emit_value(e, NULL, 2);
    return 0;
}

static void test_invalid_output(void) {
    static const bad_case_t cases[] = {
        {"name", VT_ENAME, 0},
        {"name_digit", VT_ENAME, 0},
        {"info_name", VT_ENAME, 0},
        {"label_name", VT_ELABELNAME, 0},
        {"reserved", VT_ERESERVED, 0},
        {"le", VT_ERESERVED, 0},
        {"quantile", VT_ERESERVED, 0},
        {"duplabel", VT_EDUPLABEL, 0},
        {"help", VT_EUTF8, 0},
        {"unit", VT_EUNIT, 0},
        {"type", VT_EINVAL, 0},
        {"count_few", VT_ELABELCOUNT, 0},
        {"count_many", VT_ELABELCOUNT, 0},
        {"utf8", VT_EUTF8, 0},
        {"counter_negative", VT_ERANGE, 0},
        {"counter_nan", VT_ERANGE, 0},
        {"hist_decreasing", VT_EBUCKETS, 0},
        {"hist_above_total", VT_EBUCKETS, 0},
        {"hist_bounds", VT_EBUCKETS, 0},
        {"hist_other_bounds", VT_EBUCKETS, 0},
        {"hist_value", VT_ETYPE, 0},
        {"summary_quantile_high", VT_ERANGE, 0},
        {"summary_quantile_negative", VT_ERANGE, 0},
        {"summary_quantile_order", VT_ERANGE, 0},
        {"summary_hist", VT_ETYPE, 0},
        {"counter_summary", VT_ETYPE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bad_case_t bc = cases[i];
        vt_registry_t *reg;
        CHECK_INT(vt_registry_create(&reg), 0);
        vt_gauge_t *g;
        CHECK_INT(vt_gauge_create(reg, "registered", "h", NULL, &g), 0);
        vt_gauge_series_t *gs;
        CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
        vt_gauge_set(gs, 9);
        CHECK_INT(vt_registry_add_collector(reg, NULL, emit_bad, &bc, NULL, NULL), 0);
        char *text = scrape(reg);
        if (bc.got != bc.want)
            fprintf(stderr, "collector case %s: got %d, want %d\n", bc.what, bc.got, bc.want);
        CHECK_INT(bc.got, bc.want);
        CHECK(text != NULL);
        CHECK_LINE(text, "good_before 1");
        CHECK_LINE(text, "good_after 2");
        CHECK_LINE(text, "registered 9");
        CHECK_NOT_CONTAINS(text, "bad");
        CHECK_NOT_CONTAINS(text, "\ny ");
        CHECK_LINE(text, "vitals_errors_total{kind=\"collector\"} 1");
        free(text);
        /* One more per scrape (get_sample_value scrapes as well). */
        CHECK_DBL(errors_of_kind(reg, "collector"), 2);
        vt_registry_destroy(reg);
    }
}

/* ---- a collector that gives up ---- */

static int give_up_midway(vt_emitter_t *e, void *ud) {
    (void)ud;
    vt_emit_family(e, VT_GAUGE, "done_fam", "h", NULL, NULL);
    vt_emit_value(e, NULL, 1);
    vt_emit_family(e, VT_GAUGE, "partial_fam", "h", NULL, VT_LABELS("k"));
    vt_emit_value(e, VT_VALUES("a"), 1);
    return VT_EIO;
}

static int give_up_at_once(vt_emitter_t *e, void *ud) {
    (void)e;
    (void)ud;
    return -1;
}

static void test_negative_return(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, give_up_midway, NULL, NULL, NULL), 0);
    char *text = scrape(reg);
    CHECK(text != NULL);
    CHECK_LINE(text, "done_fam 1");
    CHECK_NOT_CONTAINS(text, "partial_fam");
    CHECK_LINE(text, "vitals_errors_total{kind=\"collector\"} 1");
    free(text);
    vt_registry_destroy(reg);
}

static void test_negative_return_empty(void) {
    /* Giving up before emitting anything is still a collector error. */
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, give_up_at_once, NULL, NULL, NULL), 0);
    char *text = scrape(reg);
    CHECK(text != NULL);
    CHECK_LINE(text, "vitals_errors_total{kind=\"collector\"} 1");
    free(text);
    vt_registry_destroy(reg);
}

/* ---- names and duplicates ---- */

static int emit_named(vt_emitter_t *e, void *ud) {
    const char *name = ud;
    vt_emit_family(e, VT_GAUGE, name, "from collector", NULL, NULL);
    vt_emit_value(e, NULL, 123);
    return 0;
}

static void test_names_list(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "taken", "h", NULL, &c), 0);
    vt_collector_t *col = NULL;
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("taken"), emit_named, "taken", NULL, &col),
              VT_EDUPLICATE);
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("ok", "taken_total"), emit_named, "ok", NULL,
                                        &col),
              VT_EDUPLICATE);
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("vitals_errors_total"), emit_named,
                                        "vitals_errors_total", NULL, &col),
              VT_EDUPLICATE);
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("bad-name"), emit_named, "x", NULL, &col),
              VT_ENAME);
    CHECK(col == NULL);
    CHECK_INT(vt_registry_add_collector(reg, NULL, NULL, NULL, NULL, &col), VT_EINVAL);
    CHECK_INT(vt_registry_add_collector(NULL, NULL, emit_named, "x", NULL, &col), VT_EINVAL);
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "from collector");
    free(text);

    /* A declared name blocks later families and collectors. */
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("mine"), emit_named, "mine", NULL, &col), 0);
    CHECK(col != NULL);
    vt_gauge_t *g = NULL;
    CHECK_INT(vt_gauge_create(reg, "mine", "h", NULL, &g), VT_EDUPLICATE);
    CHECK(g == NULL);
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("mine"), emit_named, "mine", NULL, NULL),
              VT_EDUPLICATE);
    text = scrape(reg);
    CHECK_LINE(text, "mine 123");
    CHECK_INT(count_lines_with_prefix(text, "# TYPE mine "), 1);
    free(text);
    /* Removed: the name is free again. */
    CHECK_INT(vt_registry_remove_collector(reg, col), 0);
    CHECK_INT(vt_gauge_create(reg, "mine", "h", NULL, &g), 0);
    vt_registry_destroy(reg);
}

static void test_undeclared_name_taken(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "clash", "registered", NULL, &g), 0);
    vt_gauge_series_t *gs;
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    vt_gauge_set(gs, 1);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "cnt", "registered", NULL, &c), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_named, "clash", NULL, NULL), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_named, "cnt_total", NULL, NULL), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_named, "vitals_errors_total", NULL, NULL),
              0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_named, "fine", NULL, NULL), 0);
    char *text = scrape(reg);
    CHECK_LINE(text, "clash 1");
    CHECK_INT(count_lines_with_prefix(text, "# TYPE clash "), 1);
    CHECK_INT(count_lines_with_prefix(text, "clash "), 1);
    CHECK_INT(count_lines_with_prefix(text, "# TYPE cnt_total "), 1);
    CHECK_INT(count_lines_with_prefix(text, "# TYPE vitals_errors_total "), 1);
    CHECK_NOT_CONTAINS(text, "from collector\n# TYPE clash");
    CHECK_LINE(text, "fine 123");
    free(text);
    vt_registry_destroy(reg);
}

/* ---- release hooks ---- */

static int released[4];

static void release_slot(void *ud) {
    released[*(int *)ud]++;
}

static int emit_nothing(vt_emitter_t *e, void *ud) {
    (void)e;
    (void)ud;
    return 0;
}

static void test_release(void) {
    static int ids[4] = {0, 1, 2, 3};
    memset(released, 0, sizeof released);
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_collector_t *c0, *c1;
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_nothing, &ids[0], release_slot, &c0), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_nothing, &ids[1], release_slot, &c1), 0);
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_nothing, &ids[2], release_slot, NULL), 0);
    /* A refused add does not release (the caller keeps user_data). */
    CHECK_INT(vt_registry_add_collector(reg, VT_LABELS("bad-name"), emit_nothing, &ids[3],
                                        release_slot, NULL),
              VT_ENAME);
    free(scrape(reg));
    CHECK_INT(released[0] + released[1] + released[2] + released[3], 0);
    CHECK_INT(vt_registry_remove_collector(reg, c0), 0);
    CHECK_INT(released[0], 1);
    CHECK_INT(vt_registry_remove_collector(reg, c0), VT_ENOTFOUND);
    CHECK_INT(released[0], 1);
    CHECK_INT(vt_registry_remove_collector(reg, NULL), VT_EINVAL);

    vt_registry_t *other;
    CHECK_INT(vt_registry_create(&other), 0);
    CHECK_INT(vt_registry_remove_collector(other, c1), VT_ENOTFOUND);
    vt_registry_destroy(other);
    CHECK_INT(released[1], 0);

    vt_registry_destroy(reg);
    CHECK_INT(released[0], 1);
    CHECK_INT(released[1], 1);
    CHECK_INT(released[2], 1);
    CHECK_INT(released[3], 0);
}

/* ---- emitter state ---- */

typedef struct state_rc {
    int before_family, total_name, after_value;
} state_rc_t;

static int emit_state(vt_emitter_t *e, void *ud) {
    state_rc_t *r = ud;
    r->before_family = vt_emit_value(e, NULL, 1);
    r->total_name = vt_emit_family(e, VT_COUNTER, "plain", "h", NULL, NULL);
    vt_emit_value(e, NULL, 4);
    r->after_value = vt_emit_family(e, VT_GAUGE, "empty_family", "h", NULL, NULL);
    return 0;
}

static void test_emitter_state(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    state_rc_t r = {1, 1, 1};
    CHECK_INT(vt_registry_add_collector(reg, NULL, emit_state, &r, NULL, NULL), 0);
    char *text = scrape(reg);
    CHECK_INT(r.before_family, VT_ESTATE);
    CHECK_INT(r.total_name, 0);
    CHECK_INT(r.after_value, 0);
    /* A counter named without _total gets it. */
    CHECK_LINE(text, "plain_total 4");
    /* A family without samples is still a valid family. */
    CHECK_LINE(text, "# TYPE empty_family gauge");
    CHECK_LINE(text, "vitals_errors_total{kind=\"collector\"} 0");
    free(text);
    CHECK_INT(vt_emit_family(NULL, VT_GAUGE, "x", NULL, NULL, NULL), VT_EINVAL);
    CHECK_INT(vt_emit_value(NULL, NULL, 1), VT_EINVAL);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_all_types);
    RUN(test_invalid_output);
    RUN(test_negative_return);
    RUN(test_negative_return_empty);
    RUN(test_names_list);
    RUN(test_undeclared_name_taken);
    RUN(test_release);
    RUN(test_emitter_state);
    TEST_EXIT();
}
