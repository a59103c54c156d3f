/* test_cardinality.c - series limits: the overflow series, its self-metric,
 * bounded memory, and room made by removal.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

static double overflowed(vt_registry_t *reg, const char *metric) {
    return sample(reg, "vitals_series_overflow_total", VT_LABELS("metric"), VT_VALUES(metric));
}

static void test_limit_and_overflow(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "req";
    o.label_names = VT_LABELS("path", "code");
    o.max_series = 5;
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_family_t *f = vt_counter_family(c);
    vt_counter_series_t *s[5];
    char v[32];
    for (int i = 0; i < 5; i++) {
        snprintf(v, sizeof v, "/p%d", i);
        CHECK_INT(vt_counter_with(c, VT_VALUES(v, "200"), &s[i]), 0);
    }
    CHECK_INT(vt_family_series_count(f), 5);
    CHECK(isnan(overflowed(reg, "req_total")));

    vt_counter_series_t *ov = NULL, *ov2 = NULL;
    CHECK_INT(vt_counter_with(c, VT_VALUES("/attack1", "200"), &ov), 0);
    CHECK(ov != NULL);
    for (int i = 0; i < 5; i++)
        CHECK(ov != s[i]);
    CHECK_INT(vt_counter_with(c, VT_VALUES("/attack2", "404"), &ov2), 0);
    CHECK(ov == ov2);
    CHECK_INT(vt_family_series_count(f), 6);
    CHECK_DBL(overflowed(reg, "req_total"), 2);
    /* The same overflowing set again counts again. */
    CHECK_INT(vt_counter_with(c, VT_VALUES("/attack1", "200"), &ov2), 0);
    CHECK(ov == ov2);
    CHECK_DBL(overflowed(reg, "req_total"), 3);

    vt_counter_inc(ov);
    vt_counter_inc(ov2);
    char *text = scrape(reg);
    CHECK_LINE(text, "req_total{path=\"__overflow__\",code=\"__overflow__\"} 2");
    CHECK_LINE(text, "vitals_series_overflow_total{metric=\"req_total\"} 3");
    CHECK_NOT_CONTAINS(text, "attack");
    CHECK_INT(count_lines_with_prefix(text, "req_total{"), 6);
    free(text);
    CHECK_DBL(sample(reg, "req_total", VT_LABELS("path", "code"),
                     VT_VALUES(VT_OVERFLOW_LABEL_VALUE, VT_OVERFLOW_LABEL_VALUE)),
              2);

    /* Existing series are still found past the limit, without counting. */
    for (int i = 0; i < 5; i++) {
        vt_counter_series_t *again;
        snprintf(v, sizeof v, "/p%d", i);
        CHECK_INT(vt_counter_with(c, VT_VALUES(v, "200"), &again), 0);
        CHECK(again == s[i]);
    }
    CHECK_DBL(overflowed(reg, "req_total"), 3);

    /* Errors are still errors past the limit. */
    vt_counter_series_t *keep = NULL;
    CHECK_INT(vt_counter_with(c, VT_VALUES("/x"), &keep), VT_ELABELCOUNT);
    CHECK_INT(vt_counter_with(c, VT_VALUES("\xff", "1"), &keep), VT_EUTF8);
    CHECK(keep == NULL);
    CHECK_DBL(overflowed(reg, "req_total"), 3);

    /* Removal makes room for a real series. */
    CHECK_INT(vt_family_remove(f, VT_VALUES("/p0", "200")), 0);
    vt_counter_series_t *fresh;
    CHECK_INT(vt_counter_with(c, VT_VALUES("/new", "200"), &fresh), 0);
    CHECK(fresh != ov);
    vt_counter_add_u64(fresh, 9);
    CHECK_DBL(sample(reg, "req_total", VT_LABELS("path", "code"), VT_VALUES("/new", "200")), 9);
    CHECK_DBL(overflowed(reg, "req_total"), 3);
    /* Full again. */
    CHECK_INT(vt_counter_with(c, VT_VALUES("/newer", "200"), &ov2), 0);
    CHECK(ov2 == ov);
    CHECK_DBL(overflowed(reg, "req_total"), 4);
    /* The overflow series cannot be removed by its label values. */
    CHECK_INT(vt_family_series_count(f), 6);
    vt_registry_destroy(reg);
}

static void test_other_types(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.label_names = VT_LABELS("k");
    o.max_series = 1;
    o.name = "g";
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create_opts(reg, &o, &g), 0);
    o.name = "h";
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    o.name = "s";
    vt_summary_t *sm;
    CHECK_INT(vt_summary_create_opts(reg, &o, &sm), 0);
    o.name = "c_total";
    o.const_labels = VT_LABELS("env", "prod");
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);

    vt_gauge_series_t *g1, *g2;
    vt_histogram_series_t *h1, *h2;
    vt_summary_series_t *s1, *s2;
    vt_counter_series_t *c1, *c2;
    CHECK_INT(vt_gauge_with(g, VT_VALUES("a"), &g1), 0);
    CHECK_INT(vt_gauge_with(g, VT_VALUES("b"), &g2), 0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("a"), &h1), 0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("b"), &h2), 0);
    CHECK_INT(vt_summary_with(sm, VT_VALUES("a"), &s1), 0);
    CHECK_INT(vt_summary_with(sm, VT_VALUES("b"), &s2), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("a"), &c1), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("b"), &c2), 0);
    CHECK(g1 != g2 && h1 != h2 && s1 != s2 && c1 != c2);
    vt_gauge_set(g2, 3);
    vt_histogram_observe(h2, 0.1);
    vt_summary_observe(s2, 2);
    vt_counter_inc(c2);
    char *text = scrape(reg);
    CHECK_LINE(text, "g{k=\"__overflow__\"} 3");
    CHECK_LINE(text, "h_bucket{k=\"__overflow__\",le=\"0.1\"} 1");
    CHECK_LINE(text, "s_count{k=\"__overflow__\"} 1");
    CHECK_LINE(text, "c_total{env=\"prod\",k=\"__overflow__\"} 1");
    CHECK_LINE(text, "vitals_series_overflow_total{metric=\"g\"} 1");
    CHECK_LINE(text, "vitals_series_overflow_total{metric=\"h\"} 1");
    CHECK_LINE(text, "vitals_series_overflow_total{metric=\"s\"} 1");
    CHECK_LINE(text, "vitals_series_overflow_total{metric=\"c_total\"} 1");
    free(text);

    /* A family without labels and a limit of 1 never overflows. */
    vt_metric_opts_init(&o);
    o.name = "one";
    o.max_series = 1;
    vt_gauge_t *one;
    CHECK_INT(vt_gauge_create_opts(reg, &o, &one), 0);
    vt_gauge_series_t *x, *y;
    CHECK_INT(vt_gauge_with(one, NULL, &x), 0);
    CHECK_INT(vt_gauge_with(one, NULL, &y), 0);
    CHECK(x == y);
    CHECK(isnan(overflowed(reg, "one")));
    vt_registry_destroy(reg);
}

static void test_bounded_memory(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "user_hits";
    o.label_names = VT_LABELS("user");
    o.max_series = 100;
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_family_t *f = vt_counter_family(c);
    char v[32];
    vt_counter_series_t *first = NULL, *ov = NULL;
    int same_overflow = 1;
    for (int i = 0; i < 100000; i++) {
        snprintf(v, sizeof v, "user-%d", i);
        vt_counter_series_t *s;
        if (vt_counter_with(c, VT_VALUES(v), &s) != 0) {
            CHECK(0);
            break;
        }
        vt_counter_inc(s);
        if (i == 0)
            first = s;
        if (i == 100)
            ov = s;
        else if (i > 100 && s != ov)
            same_overflow = 0;
    }
    CHECK(same_overflow);
    CHECK(vt_family_series_count(f) <= 101);
    CHECK_INT(vt_family_series_count(f), 101);
    CHECK_DBL(overflowed(reg, "user_hits_total"), 100000 - 100);
    CHECK_DBL(vt_counter_get(ov), 100000 - 100);
    CHECK_DBL(vt_counter_get(first), 1);
    char *text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "user_hits_total{"), 101);
    free(text);
    vt_registry_destroy(reg);
}

static void test_default_limit(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "d", "h", VT_LABELS("k"), &c), 0);
    char v[32];
    vt_counter_series_t *s = NULL, *last = NULL;
    for (int i = 0; i < VT_DEFAULT_MAX_SERIES + 3; i++) {
        snprintf(v, sizeof v, "%d", i);
        CHECK_INT(vt_counter_with(c, VT_VALUES(v), &s), 0);
        if (i == VT_DEFAULT_MAX_SERIES - 1)
            last = s;
    }
    CHECK(s != last);
    CHECK_INT(vt_family_series_count(vt_counter_family(c)), VT_DEFAULT_MAX_SERIES + 1);
    CHECK_DBL(overflowed(reg, "d_total"), 3);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_limit_and_overflow);
    RUN(test_other_types);
    RUN(test_bounded_memory);
    RUN(test_default_limit);
    TEST_EXIT();
}
