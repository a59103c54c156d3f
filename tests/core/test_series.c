/* test_series.c - the series rule: removal and clearing never let an old
 * handle write into another series.
 *
 * After vt_family_remove or vt_family_clear the old handle stays writable; its
 * writes must not reach the output, the series bound later with the same
 * values, or any series that reuses the freed directory slot. Every check here
 * snapshots all exposed values, writes through every old handle, and compares.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

static void test_remove_one(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "r", "h", VT_LABELS("k"), &c), 0);
    vt_family_t *f = vt_counter_family(c);
    vt_counter_series_t *a, *b;
    CHECK_INT(vt_counter_with(c, VT_VALUES("a"), &a), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("b"), &b), 0);
    vt_counter_add_u64(a, 10);
    vt_counter_add_u64(b, 20);
    CHECK_INT(vt_family_series_count(f), 2);

    CHECK_INT(vt_family_remove(f, VT_VALUES("zz")), VT_ENOTFOUND);
    CHECK_INT(vt_family_remove(f, NULL), VT_ELABELCOUNT);
    CHECK_INT(vt_family_remove(f, VT_VALUES("a", "b")), VT_ELABELCOUNT);
    CHECK_INT(vt_family_remove(NULL, VT_VALUES("a")), VT_EINVAL);
    CHECK_INT(vt_family_series_count(f), 2);

    CHECK_INT(vt_family_remove(f, VT_VALUES("a")), 0);
    CHECK_INT(vt_family_series_count(f), 1);
    CHECK_INT(vt_family_remove(f, VT_VALUES("a")), VT_ENOTFOUND);
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "r_total{k=\"a\"}");
    CHECK_LINE(text, "r_total{k=\"b\"} 20");
    free(text);
    CHECK(isnan(sample(reg, "r_total", VT_LABELS("k"), VT_VALUES("a"))));

    /* The old handle is writable, and nobody sees its writes. */
    vt_counter_inc(a);
    vt_counter_add(a, 0.5);
    CHECK_DBL(vt_counter_get(a), 11.5);
    text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "r_total{k=\"a\"}");
    CHECK_LINE(text, "r_total{k=\"b\"} 20");
    free(text);

    /* Binding the same values again: a new series from zero. */
    vt_counter_series_t *a2;
    CHECK_INT(vt_counter_with(c, VT_VALUES("a"), &a2), 0);
    CHECK(a2 != a);
    CHECK_DBL(vt_counter_get(a2), 0);
    CHECK_DBL(sample(reg, "r_total", VT_LABELS("k"), VT_VALUES("a")), 0);
    vt_counter_add_u64(a, 1000);
    CHECK_DBL(sample(reg, "r_total", VT_LABELS("k"), VT_VALUES("a")), 0);
    CHECK_DBL(vt_counter_get(a2), 0);
    vt_counter_inc(a2);
    CHECK_DBL(sample(reg, "r_total", VT_LABELS("k"), VT_VALUES("a")), 1);
    CHECK_DBL(vt_counter_get(a), 1011.5);
    CHECK_INT(vt_family_series_count(f), 2);

    /* Without labels. */
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "solo", "h", NULL, &g), 0);
    vt_gauge_series_t *gs, *gs2;
    CHECK_INT(vt_gauge_with(g, NULL, &gs), 0);
    vt_gauge_set(gs, 5);
    CHECK_INT(vt_family_remove(vt_gauge_family(g), VT_VALUES("x")), VT_ELABELCOUNT);
    CHECK_INT(vt_family_remove(vt_gauge_family(g), NULL), 0);
    CHECK_INT(vt_family_remove(vt_gauge_family(g), NULL), VT_ENOTFOUND);
    CHECK(isnan(sample(reg, "solo", NULL, NULL)));
    CHECK_INT(vt_gauge_with(g, NULL, &gs2), 0);
    CHECK(gs2 != gs);
    vt_gauge_set(gs, 99);
    CHECK_DBL(sample(reg, "solo", NULL, NULL), 0);
    CHECK_DBL(vt_gauge_get(gs), 99);
    vt_registry_destroy(reg);
}

static void test_remove_histogram(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create(reg, "h", "h", VT_LABELS("k"), NULL, 0, &h), 0);
    vt_histogram_series_t *a, *a2;
    CHECK_INT(vt_histogram_with(h, VT_VALUES("a"), &a), 0);
    vt_histogram_observe(a, 0.3);
    CHECK_INT(vt_family_remove(vt_histogram_family(h), VT_VALUES("a")), 0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("a"), &a2), 0);
    vt_histogram_observe(a, 0.3);
    vt_histogram_observe(a, 0.3);
    uint64_t n = 0;
    double sum = 0;
    vt_histogram_get(a2, &n, &sum);
    CHECK_INT(n, 0);
    CHECK_DBL(sum, 0);
    vt_histogram_get(a, &n, &sum);
    CHECK_INT(n, 3);
    CHECK_DBL(sample(reg, "h_count", VT_LABELS("k"), VT_VALUES("a")), 0);
    const char *const ln[] = {"k", "le", NULL};
    const char *const lv[] = {"a", "+Inf", NULL};
    CHECK_DBL(sample(reg, "h_bucket", ln, lv), 0);
    vt_registry_destroy(reg);
}

/* A whole exposition, to compare before and after writes through old handles. */
typedef struct snap {
    char text[65536];
} snap_t;

static void take(vt_registry_t *reg, snap_t *s) {
    char *t = scrape(reg);
    snprintf(s->text, sizeof s->text, "%s", t ? t : "");
    free(t);
}

static void test_directory_reuse(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "s", "h", VT_LABELS("k"), &c), 0);
    vt_family_t *f = vt_counter_family(c);
    enum { OLD = 300, NEW = 600 };
    vt_counter_series_t *old[OLD];
    char v[32];
    for (int i = 0; i < OLD; i++) {
        snprintf(v, sizeof v, "old%d", i);
        CHECK_INT(vt_counter_with(c, VT_VALUES(v), &old[i]), 0);
        vt_counter_add_u64(old[i], (uint64_t)i + 1);
    }
    /* Remove every other one, then all of them, in a scattered order. */
    for (int i = 0; i < OLD; i += 2) {
        snprintf(v, sizeof v, "old%d", i);
        CHECK_INT(vt_family_remove(f, VT_VALUES(v)), 0);
    }
    for (int i = OLD - 1; i > 0; i -= 2) {
        snprintf(v, sizeof v, "old%d", i);
        CHECK_INT(vt_family_remove(f, VT_VALUES(v)), 0);
    }
    CHECK_INT(vt_family_series_count(f), 0);
    /* New series take the freed directory slots. */
    vt_counter_series_t *nw[NEW];
    for (int i = 0; i < NEW; i++) {
        snprintf(v, sizeof v, "new%d", i);
        CHECK_INT(vt_counter_with(c, VT_VALUES(v), &nw[i]), 0);
        for (int j = 0; j < OLD; j++)
            CHECK(nw[i] != old[j]);
        vt_counter_add_u64(nw[i], 7);
    }
    /* Some of the old values come back as new series. */
    vt_counter_series_t *back[10];
    for (int i = 0; i < 10; i++) {
        snprintf(v, sizeof v, "old%d", i);
        CHECK_INT(vt_counter_with(c, VT_VALUES(v), &back[i]), 0);
        CHECK(back[i] != old[i]);
    }
    static snap_t before, after;
    take(reg, &before);
    for (int i = 0; i < OLD; i++) {
        vt_counter_add_u64(old[i], 1000000);
        vt_counter_add(old[i], 0.25);
    }
    take(reg, &after);
    CHECK(strcmp(before.text, after.text) == 0);
    CHECK_INT(count_lines_with_prefix(after.text, "s_total{"), NEW + 10);
    CHECK_LINE(after.text, "s_total{k=\"new0\"} 7");
    CHECK_LINE(after.text, "s_total{k=\"new599\"} 7");
    CHECK_LINE(after.text, "s_total{k=\"old3\"} 0");
    for (int i = 0; i < NEW; i++)
        CHECK_DBL(vt_counter_get(nw[i]), 7);
    for (int i = 0; i < 10; i++)
        CHECK_DBL(vt_counter_get(back[i]), 0);
    CHECK_DBL(vt_counter_get(old[5]), 6 + 1000000 + 0.25);
    vt_registry_destroy(reg);
}

static void test_gauge_reuse(void) {
    /* Gauges keep their value in the series itself: check them the same way. */
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_registry_set_self_metrics(reg, 0);
    vt_gauge_t *g;
    CHECK_INT(vt_gauge_create(reg, "g", "h", VT_LABELS("k"), &g), 0);
    vt_gauge_series_t *old[50], *nw[100];
    char v[32];
    for (int i = 0; i < 50; i++) {
        snprintf(v, sizeof v, "%d", i);
        CHECK_INT(vt_gauge_with(g, VT_VALUES(v), &old[i]), 0);
    }
    vt_family_clear(vt_gauge_family(g));
    CHECK_INT(vt_family_series_count(vt_gauge_family(g)), 0);
    for (int i = 0; i < 100; i++) {
        snprintf(v, sizeof v, "%d", i);
        CHECK_INT(vt_gauge_with(g, VT_VALUES(v), &nw[i]), 0);
        vt_gauge_set(nw[i], i);
    }
    static snap_t before, after;
    take(reg, &before);
    for (int i = 0; i < 50; i++) {
        vt_gauge_set(old[i], -1);
        vt_gauge_add(old[i], -1);
    }
    take(reg, &after);
    CHECK(strcmp(before.text, after.text) == 0);
    CHECK_LINE(after.text, "g{k=\"7\"} 7");
    vt_registry_destroy(reg);
}

static void test_clear(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "cl";
    o.label_names = VT_LABELS("k");
    o.max_series = 3;
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_family_t *f = vt_counter_family(c);
    vt_counter_series_t *s[5];
    const char *vals[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) {
        CHECK_INT(vt_counter_with(c, VT_VALUES(vals[i]), &s[i]), 0);
        vt_counter_inc(s[i]);
    }
    CHECK(s[3] == s[4]); /* the overflow series */
    CHECK_INT(vt_family_series_count(f), 4);
    vt_family_clear(f);
    CHECK_INT(vt_family_series_count(f), 0);
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "cl_total{");
    CHECK_CONTAINS(text, "# TYPE cl_total counter");
    free(text);
    for (int i = 0; i < 5; i++)
        vt_counter_inc(s[i]);
    text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "cl_total{");
    free(text);

    /* The limit counts from zero again; new series start at zero. */
    vt_counter_series_t *n[4];
    for (int i = 0; i < 4; i++)
        CHECK_INT(vt_counter_with(c, VT_VALUES(vals[i]), &n[i]), 0);
    CHECK_INT(vt_family_series_count(f), 4);
    for (int i = 0; i < 3; i++) {
        CHECK(n[i] != s[i]);
        CHECK_DBL(vt_counter_get(n[i]), 0);
    }
    CHECK(n[3] != s[3]); /* a new overflow series */
    CHECK_DBL(vt_counter_get(n[3]), 0);
    for (int i = 0; i < 5; i++)
        vt_counter_add_u64(s[i], 100);
    text = scrape(reg);
    CHECK_LINE(text, "cl_total{k=\"a\"} 0");
    CHECK_LINE(text, "cl_total{k=\"__overflow__\"} 0");
    free(text);
    vt_family_clear(f);
    vt_family_clear(f);
    vt_family_clear(NULL);
    CHECK_INT(vt_family_series_count(f), 0);
    CHECK_INT(vt_family_series_count(NULL), 0);

    /* An info family can be set again after a clear. */
    vt_info_t *inf;
    CHECK_INT(vt_info_create(reg, "ii", "h", VT_LABELS("v"), VT_VALUES("1"), &inf), 0);
    vt_family_clear(vt_info_family(inf));
    text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "ii_info{");
    free(text);
    CHECK_INT(vt_info_set(inf, VT_VALUES("2")), 0);
    text = scrape(reg);
    CHECK_LINE(text, "ii_info{v=\"2\"} 1");
    CHECK_INT(count_lines_with_prefix(text, "ii_info{"), 1);
    free(text);
    vt_registry_destroy(reg);
}

static void test_churn(void) {
    /* Bind and remove the same few values many times: lookups stay exact. */
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "churn";
    o.label_names = VT_LABELS("k");
    o.max_series = 8;
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_family_t *f = vt_counter_family(c);
    char v[16];
    for (int round = 0; round < 2000; round++) {
        snprintf(v, sizeof v, "%d", round % 5);
        vt_counter_series_t *s, *s2;
        CHECK_INT(vt_counter_with(c, VT_VALUES(v), &s), 0);
        vt_counter_inc(s);
        CHECK_INT(vt_counter_with(c, VT_VALUES(v), &s2), 0);
        CHECK(s == s2);
        if (round % 3 == 0)
            CHECK_INT(vt_family_remove(f, VT_VALUES(v)), 0);
    }
    CHECK(vt_family_series_count(f) <= 8);
    double errors =
        sample(reg, "vitals_series_overflow_total", VT_LABELS("metric"), VT_VALUES("churn_total"));
    CHECK(isnan(errors)); /* never past the limit */
    vt_registry_destroy(reg);
}

static void test_info_remove_then_set(void) {
    /* Removing an info metric's series by its values, then setting new ones. */
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_info_t *inf;
    CHECK_INT(vt_info_create(reg, "build", "h", VT_LABELS("v"), VT_VALUES("1"), &inf), 0);
    vt_family_t *f = vt_info_family(inf);
    CHECK_INT(vt_family_remove(f, VT_VALUES("1")), 0);
    CHECK_INT(vt_family_series_count(f), 0);
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "build_info{");
    free(text);
    CHECK_INT(vt_info_set(inf, VT_VALUES("2")), 0);
    CHECK_INT(vt_family_series_count(f), 1);
    text = scrape(reg);
    CHECK_LINE(text, "build_info{v=\"2\"} 1");
    free(text);
    CHECK_INT(vt_info_set(inf, VT_VALUES("3")), 0);
    CHECK_INT(vt_family_series_count(f), 1);
    text = scrape(reg);
    CHECK_LINE(text, "build_info{v=\"3\"} 1");
    CHECK_INT(count_lines_with_prefix(text, "build_info{"), 1);
    free(text);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_remove_one);
    RUN(test_remove_histogram);
    RUN(test_directory_reuse);
    RUN(test_gauge_reuse);
    RUN(test_clear);
    RUN(test_churn);
    RUN(test_info_remove_then_set);
    TEST_EXIT();
}
