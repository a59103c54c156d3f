/* test_registry.c - registries: lifetime, registration, duplicates, self
 * metrics and vt_registry_get_sample_value for every kind of sample.
 *
 * A refused registration must leave both the registry and the family as they
 * were; an unregistered family leaves the output but its handles keep working.
 *
 * SPDX-License-Identifier: MIT
 */
#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

static void test_create_destroy(void) {
    vt_registry_t *reg = NULL;
    CHECK_INT(vt_registry_create(&reg), 0);
    CHECK(reg != NULL);
    char *text = scrape(reg);
    CHECK(text != NULL);
    /* An empty registry writes only its own metrics. */
    CHECK_INT(count_lines_with_prefix(text, "# TYPE "), 1);
    CHECK_LINE(text, "# TYPE vitals_errors_total counter");
    free(text);
    vt_registry_destroy(reg);
    vt_registry_destroy(NULL);
    CHECK_INT(vt_registry_create(NULL), VT_EINVAL);

    vt_registry_t *d1 = vt_registry_default(), *d2 = vt_registry_default();
    CHECK(d1 != NULL && d1 == d2);
    vt_registry_t *other;
    CHECK_INT(vt_registry_create(&other), 0);
    CHECK(other != d1);
    vt_registry_destroy(other);
}

static void test_register_unregister(void) {
    vt_registry_t *r1, *r2;
    CHECK_INT(vt_registry_create(&r1), 0);
    CHECK_INT(vt_registry_create(&r2), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(NULL, "free", "h", VT_LABELS("k"), &c), 0);
    vt_family_t *f = vt_counter_family(c);
    vt_counter_series_t *s;
    CHECK_INT(vt_counter_with(c, VT_VALUES("a"), &s), 0);
    vt_counter_add_u64(s, 4);
    /* Not registered anywhere: not in any output. */
    char *text = scrape(r1);
    CHECK_NOT_CONTAINS(text, "free_total");
    free(text);
    CHECK_INT(vt_registry_unregister(r1, f), VT_ENOTFOUND);

    CHECK_INT(vt_registry_register(r1, f), 0);
    CHECK_DBL(sample(r1, "free_total", VT_LABELS("k"), VT_VALUES("a")), 4);
    /* Already registered, here or elsewhere. */
    CHECK_INT(vt_registry_register(r1, f), VT_EBUSY);
    CHECK_INT(vt_registry_register(r2, f), VT_EBUSY);
    CHECK(isnan(sample(r2, "free_total", VT_LABELS("k"), VT_VALUES("a"))));
    CHECK_INT(vt_registry_unregister(r2, f), VT_ENOTFOUND);
    CHECK_INT(vt_family_destroy(f), VT_EBUSY);
    /* Still registered and working after the refused calls. */
    text = scrape(r1);
    CHECK_LINE(text, "free_total{k=\"a\"} 4");
    CHECK_INT(count_lines_with_prefix(text, "# TYPE free_total"), 1);
    free(text);

    CHECK_INT(vt_registry_unregister(r1, f), 0);
    CHECK_INT(vt_registry_unregister(r1, f), VT_ENOTFOUND);
    text = scrape(r1);
    CHECK_NOT_CONTAINS(text, "free_total");
    free(text);
    /* Handles still work; new bindings too. */
    vt_counter_inc(s);
    CHECK_DBL(vt_counter_get(s), 5);
    vt_counter_series_t *s2;
    CHECK_INT(vt_counter_with(c, VT_VALUES("b"), &s2), 0);
    vt_counter_inc(s2);

    /* It can move to another registry, with its values. */
    CHECK_INT(vt_registry_register(r2, f), 0);
    CHECK_DBL(sample(r2, "free_total", VT_LABELS("k"), VT_VALUES("a")), 5);
    CHECK_DBL(sample(r2, "free_total", VT_LABELS("k"), VT_VALUES("b")), 1);
    CHECK_INT(vt_registry_unregister(r2, f), 0);
    CHECK_INT(vt_family_destroy(f), 0);
    CHECK_INT(vt_family_destroy(NULL), 0);

    CHECK_INT(vt_registry_register(NULL, f), VT_EINVAL);
    CHECK_INT(vt_registry_register(r1, NULL), VT_EINVAL);
    CHECK_INT(vt_registry_unregister(NULL, NULL), VT_EINVAL);

    /* Order of registration is the order of output. */
    vt_gauge_t *g1, *g2, *g3;
    CHECK_INT(vt_gauge_create(r1, "zeta", "h", NULL, &g1), 0);
    CHECK_INT(vt_gauge_create(r1, "alpha", "h", NULL, &g2), 0);
    CHECK_INT(vt_gauge_create(r1, "mid", "h", NULL, &g3), 0);
    CHECK_INT(vt_registry_unregister(r1, vt_gauge_family(g2)), 0);
    CHECK_INT(vt_registry_register(r1, vt_gauge_family(g2)), 0);
    vt_gauge_series_t *x;
    CHECK_INT(vt_gauge_with(g1, NULL, &x), 0);
    CHECK_INT(vt_gauge_with(g2, NULL, &x), 0);
    CHECK_INT(vt_gauge_with(g3, NULL, &x), 0);
    text = scrape(r1);
    const char *pz = strstr(text, "\nzeta "), *pm = strstr(text, "\nmid "),
               *pa = strstr(text, "\nalpha ");
    CHECK(pz && pm && pa && pz < pm && pm < pa);
    free(text);
    vt_registry_destroy(r1);
    vt_registry_destroy(r2);
}

/* Registers a family named b of type tb into a registry that holds a of type
 * ta (a NULL: only the self metrics); expects VT_EDUPLICATE and checks that
 * nothing changed. */
static void check_dup(vt_type_t ta, const char *a, vt_type_t tb, const char *b) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_family_t *fa = NULL, *fb = NULL;
    for (int k = 0; k < 2; k++) {
        vt_type_t t = k ? tb : ta;
        const char *n = k ? b : a;
        vt_registry_t *r = k ? NULL : reg; /* the second one is created free */
        vt_family_t *f = NULL;
        if (!n)
            continue; /* no first family: test against the self metrics */
        int rc = -100;
        switch (t) {
        case VT_COUNTER: {
            vt_counter_t *x;
            if ((rc = vt_counter_create(r, n, "h", NULL, &x)) == 0)
                f = vt_counter_family(x);
            break;
        }
        case VT_GAUGE: {
            vt_gauge_t *x;
            if ((rc = vt_gauge_create(r, n, "h", NULL, &x)) == 0)
                f = vt_gauge_family(x);
            break;
        }
        case VT_HISTOGRAM: {
            vt_histogram_t *x;
            if ((rc = vt_histogram_create(r, n, "h", NULL, NULL, 0, &x)) == 0)
                f = vt_histogram_family(x);
            break;
        }
        case VT_SUMMARY: {
            vt_summary_t *x;
            if ((rc = vt_summary_create(r, n, "h", NULL, &x)) == 0)
                f = vt_summary_family(x);
            break;
        }
        case VT_INFO: {
            vt_info_t *x;
            if ((rc = vt_info_create(r, n, "h", NULL, NULL, &x)) == 0)
                f = vt_info_family(x);
            break;
        }
        default:
            break;
        }
        CHECK_INT(rc, 0);
        if (k)
            fb = f;
        else
            fa = f;
    }
    (void)fa;
    char *before = scrape(reg);
    int rc = fb ? vt_registry_register(reg, fb) : -100;
    if (rc != VT_EDUPLICATE)
        fprintf(stderr, "%s after %s: %d\n", b, a ? a : "(self metrics)", rc);
    CHECK_INT(rc, VT_EDUPLICATE);
    char *after = scrape(reg);
    CHECK(before && after && strcmp(before, after) == 0);
    free(before);
    free(after);
    /* The refused family is still free: destroyable, registrable elsewhere
     * (self-metric names stay reserved even where self-metrics are off, so
     * that turning them on never duplicates a family). */
    vt_registry_t *other;
    CHECK_INT(vt_registry_create(&other), 0);
    vt_registry_set_self_metrics(other, 0);
    if (a) {
        CHECK_INT(vt_registry_register(other, fb), 0);
        CHECK_INT(vt_registry_unregister(other, fb), 0);
    } else
        CHECK_INT(vt_registry_register(other, fb), VT_EDUPLICATE);
    CHECK_INT(vt_family_destroy(fb), 0);
    vt_registry_destroy(other);

    /* The direct create call refuses too, and creates nothing. */
    vt_gauge_t *g = NULL;
    if (tb == VT_GAUGE) {
        CHECK_INT(vt_gauge_create(reg, b, "h", NULL, &g), VT_EDUPLICATE);
        CHECK(g == NULL);
    }
    vt_registry_destroy(reg);
}

static void test_duplicates(void) {
    check_dup(VT_COUNTER, "x", VT_GAUGE, "x_total");
    check_dup(VT_GAUGE, "x_total", VT_COUNTER, "x");
    check_dup(VT_COUNTER, "x", VT_COUNTER, "x_total");
    check_dup(VT_COUNTER, "x", VT_GAUGE, "x");
    check_dup(VT_HISTOGRAM, "y", VT_GAUGE, "y_count");
    check_dup(VT_HISTOGRAM, "y", VT_GAUGE, "y_sum");
    check_dup(VT_HISTOGRAM, "y", VT_GAUGE, "y_bucket");
    check_dup(VT_GAUGE, "y_bucket", VT_HISTOGRAM, "y");
    check_dup(VT_SUMMARY, "s", VT_GAUGE, "s_count");
    check_dup(VT_SUMMARY, "s", VT_HISTOGRAM, "s");
    check_dup(VT_INFO, "b", VT_GAUGE, "b_info");
    check_dup(VT_GAUGE, "b_info", VT_INFO, "b");
    check_dup(VT_INFO, "b", VT_GAUGE, "b");
    /* The self-metric names. */
    check_dup(VT_COUNTER, NULL, VT_GAUGE, "vitals_errors_total");
    check_dup(VT_COUNTER, NULL, VT_COUNTER, "vitals_errors");
    check_dup(VT_COUNTER, NULL, VT_COUNTER, "vitals_series_overflow_total");
    check_dup(VT_COUNTER, NULL, VT_GAUGE, "vitals_series_overflow");
}

static void test_self_metrics_switch(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "lim";
    o.label_names = VT_LABELS("k");
    o.max_series = 1;
    vt_counter_t *c;
    CHECK_INT(vt_counter_create_opts(reg, &o, &c), 0);
    vt_counter_series_t *s;
    CHECK_INT(vt_counter_with(c, VT_VALUES("a"), &s), 0);
    CHECK_INT(vt_counter_with(c, VT_VALUES("b"), &s), 0); /* overflows */
    char *text = scrape(reg);
    CHECK_CONTAINS(text, "vitals_errors_total{kind=");
    CHECK_LINE(text, "vitals_series_overflow_total{metric=\"lim_total\"} 1");
    free(text);
    CHECK_DBL(errors_of_kind(reg, "nan_value"), 0);

    vt_registry_set_self_metrics(reg, 0);
    text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "vitals_");
    CHECK_LINE(text, "lim_total{k=\"a\"} 0");
    free(text);
    CHECK(isnan(errors_of_kind(reg, "nan_value")));
    text = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK_NOT_CONTAINS(text, "vitals_");
    CHECK_LINE(text, "# EOF");
    free(text);

    vt_registry_set_self_metrics(reg, 1);
    text = scrape(reg);
    CHECK_CONTAINS(text, "vitals_errors_total{kind=");
    free(text);
    vt_registry_set_self_metrics(NULL, 0); /* ignored */
    vt_registry_destroy(reg);
}

static void test_sample_value_kinds(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    vt_gauge_t *g;
    vt_histogram_t *h;
    vt_summary_t *sm;
    vt_info_t *inf;
    CHECK_INT(vt_counter_create(reg, "c", "h", VT_LABELS("a", "b"), &c), 0);
    CHECK_INT(vt_gauge_create(reg, "g", "h", VT_LABELS("a"), &g), 0);
    static const double bounds[] = {1, 2};
    CHECK_INT(vt_histogram_create(reg, "hi", "h", VT_LABELS("a"), bounds, 2, &h), 0);
    CHECK_INT(vt_summary_create(reg, "su", "h", NULL, &sm), 0);
    CHECK_INT(vt_info_create(reg, "in", "h", VT_LABELS("v", "w"), VT_VALUES("1", "2"), &inf), 0);
    vt_counter_series_t *cs;
    vt_gauge_series_t *gs;
    vt_histogram_series_t *hs;
    vt_summary_series_t *ss;
    CHECK_INT(vt_counter_with(c, VT_VALUES("x", "y"), &cs), 0);
    CHECK_INT(vt_gauge_with(g, VT_VALUES("x"), &gs), 0);
    CHECK_INT(vt_histogram_with(h, VT_VALUES("x"), &hs), 0);
    CHECK_INT(vt_summary_with(sm, NULL, &ss), 0);
    vt_counter_add_u64(cs, 3);
    vt_gauge_set(gs, -2.5);
    vt_histogram_observe(hs, 1.5);
    vt_histogram_observe(hs, 0.5);
    vt_histogram_observe(hs, 9);
    vt_summary_observe(ss, 4);

    double v = -1;
    CHECK_INT(
        vt_registry_get_sample_value(reg, "c_total", VT_LABELS("a", "b"), VT_VALUES("x", "y"), &v),
        0);
    CHECK_DBL(v, 3);
    CHECK_DBL(sample(reg, "c_total", VT_LABELS("b", "a"), VT_VALUES("y", "x")), 3);
    CHECK_DBL(sample(reg, "g", VT_LABELS("a"), VT_VALUES("x")), -2.5);
    const char *const hn[] = {"le", "a", NULL};
    const char *const hv1[] = {"1", "x", NULL};
    const char *const hv2[] = {"2", "x", NULL};
    const char *const hv3[] = {"+Inf", "x", NULL};
    CHECK_DBL(sample(reg, "hi_bucket", hn, hv1), 1);
    CHECK_DBL(sample(reg, "hi_bucket", hn, hv2), 2);
    CHECK_DBL(sample(reg, "hi_bucket", hn, hv3), 3);
    CHECK_DBL(sample(reg, "hi_sum", VT_LABELS("a"), VT_VALUES("x")), 11);
    CHECK_DBL(sample(reg, "hi_count", VT_LABELS("a"), VT_VALUES("x")), 3);
    CHECK_DBL(sample(reg, "su_sum", NULL, NULL), 4);
    CHECK_DBL(sample(reg, "su_count", NULL, NULL), 1);
    CHECK_DBL(sample(reg, "in_info", VT_LABELS("w", "v"), VT_VALUES("2", "1")), 1);

    /* Misses: wrong name, wrong or missing or extra labels, wrong values. */
    v = 77;
    CHECK_INT(vt_registry_get_sample_value(reg, "c", VT_LABELS("a", "b"), VT_VALUES("x", "y"), &v),
              VT_ENOTFOUND);
    CHECK_DBL(v, 77);
    CHECK_INT(vt_registry_get_sample_value(reg, "c_total", VT_LABELS("a"), VT_VALUES("x"), &v),
              VT_ENOTFOUND);
    CHECK_INT(vt_registry_get_sample_value(reg, "c_total", NULL, NULL, &v), VT_ENOTFOUND);
    CHECK_INT(vt_registry_get_sample_value(reg, "c_total", VT_LABELS("a", "b", "z"),
                                           VT_VALUES("x", "y", "z"), &v),
              VT_ENOTFOUND);
    CHECK_INT(
        vt_registry_get_sample_value(reg, "c_total", VT_LABELS("a", "b"), VT_VALUES("x", "Y"), &v),
        VT_ENOTFOUND);
    CHECK_INT(
        vt_registry_get_sample_value(reg, "c_total", VT_LABELS("a", "c"), VT_VALUES("x", "y"), &v),
        VT_ENOTFOUND);
    CHECK_INT(vt_registry_get_sample_value(reg, "hi_bucket", VT_LABELS("a"), VT_VALUES("x"), &v),
              VT_ENOTFOUND);
    CHECK_INT(vt_registry_get_sample_value(reg, "hi", VT_LABELS("a"), VT_VALUES("x"), &v),
              VT_ENOTFOUND);
    CHECK_INT(vt_registry_get_sample_value(reg, "in", VT_LABELS("v", "w"), VT_VALUES("1", "2"), &v),
              VT_ENOTFOUND);
    CHECK_INT(vt_registry_get_sample_value(reg, "g_total", VT_LABELS("a"), VT_VALUES("x"), &v),
              VT_ENOTFOUND);
    CHECK_INT(vt_registry_get_sample_value(reg, "nothing", NULL, NULL, &v), VT_ENOTFOUND);
    CHECK_INT(vt_registry_get_sample_value(reg, "", NULL, NULL, &v), VT_ENOTFOUND);
    CHECK_DBL(v, 77);
    /* Bad arguments. */
    CHECK_INT(vt_registry_get_sample_value(NULL, "g", NULL, NULL, &v), VT_EINVAL);
    CHECK_INT(vt_registry_get_sample_value(reg, NULL, NULL, NULL, &v), VT_EINVAL);
    CHECK_INT(vt_registry_get_sample_value(reg, "g", VT_LABELS("a"), VT_VALUES("x"), NULL),
              VT_EINVAL);
    CHECK_INT(vt_registry_get_sample_value(reg, "g", VT_LABELS("a"), NULL, &v), VT_EINVAL);
    CHECK_INT(vt_registry_get_sample_value(reg, "g", VT_LABELS("a", "b"), VT_VALUES("x"), &v),
              VT_EINVAL);
    vt_registry_destroy(reg);
}

static void test_destroy_with_families(void) {
    /* A registry destroys what it holds; the caller destroys what it took back. */
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    vt_histogram_t *h;
    CHECK_INT(vt_counter_create(reg, "c", "h", VT_LABELS("a"), &c), 0);
    CHECK_INT(vt_histogram_create(reg, "h", "h", NULL, NULL, 0, &h), 0);
    vt_counter_series_t *cs;
    CHECK_INT(vt_counter_with(c, VT_VALUES("1"), &cs), 0);
    vt_counter_inc(cs);
    CHECK_INT(vt_registry_unregister(reg, vt_histogram_family(h)), 0);
    vt_registry_destroy(reg);
    vt_histogram_series_t *hs;
    CHECK_INT(vt_histogram_with(h, NULL, &hs), 0);
    vt_histogram_observe(hs, 1);
    uint64_t n = 0;
    vt_histogram_get(hs, &n, NULL);
    CHECK_INT(n, 1);
    CHECK_INT(vt_family_destroy(vt_histogram_family(h)), 0);
}

typedef struct pieces {
    size_t calls, max, total, fail_at; /* fail_at: refuse this call (1-based), 0 never */
    char *all;
} pieces_t;

static int piece_sink(void *ud, const char *data, size_t len) {
    pieces_t *p = ud;
    p->calls++;
    if (p->fail_at && p->calls == p->fail_at)
        return -1;
    if (len > p->max)
        p->max = len;
    char *n = realloc(p->all, p->total + len + 1);
    if (!n)
        return -1;
    p->all = n;
    memcpy(p->all + p->total, data, len);
    p->total += len;
    p->all[p->total] = '\0';
    return 0;
}

static void test_write_sink(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "big", "h", VT_LABELS("k"), &c), 0);
    char v[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(v, sizeof v, "a-fairly-long-label-value-number-%d", i);
        vt_counter_series_t *s;
        CHECK_INT(vt_counter_with(c, VT_VALUES(v), &s), 0);
    }
    /* Pieces of at most 64 KiB that add up to the buffered output. */
    pieces_t p = {0};
    CHECK_INT(vt_registry_write(reg, NULL, piece_sink, &p), 0);
    CHECK(p.calls > 2);
    CHECK(p.max <= 65536);
    char *whole = scrape(reg);
    CHECK(whole && p.all && strcmp(whole, p.all) == 0);
    free(whole);
    free(p.all);

    /* A sink that refuses: VT_ESINK, and no further calls. */
    for (size_t at = 1; at <= 3; at++) {
        pieces_t q = {0};
        q.fail_at = at;
        CHECK_INT(vt_registry_write(reg, NULL, piece_sink, &q), VT_ESINK);
        CHECK_INT(q.calls, at);
        free(q.all);
    }
    /* The registry is unharmed. */
    char *again = scrape(reg);
    CHECK(again != NULL);
    CHECK_INT(count_lines_with_prefix(again, "big_total{"), 5000);
    free(again);

    /* Bad arguments. */
    vt_write_opts_t o;
    vt_write_opts_init(&o);
    o.format = (vt_format_t)7;
    pieces_t r = {0};
    CHECK_INT(vt_registry_write(reg, &o, piece_sink, &r), VT_EINVAL);
    CHECK_INT(r.calls, 0);
    CHECK_INT(vt_registry_write(reg, NULL, NULL, &r), VT_EINVAL);
    CHECK_INT(vt_registry_write(NULL, NULL, piece_sink, &r), VT_EINVAL);
    vt_buf_t b = {0};
    CHECK_INT(vt_registry_write_buf(reg, &o, &b), VT_EINVAL);
    CHECK_INT(vt_registry_write_buf(reg, NULL, NULL), VT_EINVAL);
    CHECK_INT(vt_registry_write_buf(NULL, NULL, &b), VT_EINVAL);
    vt_buf_free(&b);
    vt_buf_free(NULL);
    /* write_buf appends. */
    CHECK_INT(vt_registry_write_buf(reg, NULL, &b), 0);
    size_t one = b.len;
    CHECK_INT(vt_registry_write_buf(reg, NULL, &b), 0);
    CHECK_INT(b.len, 2 * one);
    CHECK(b.data[b.len] == '\0');
    vt_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_create_destroy);
    RUN(test_register_unregister);
    RUN(test_duplicates);
    RUN(test_self_metrics_switch);
    RUN(test_sample_value_kinds);
    RUN(test_destroy_with_families);
    RUN(test_write_sink);
    TEST_EXIT();
}
