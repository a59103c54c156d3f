/* test_native.c - native histograms: bucket indexes, schema choice, the
 * bucket-limit strategies, and nothing lost under concurrency.
 *
 * SPDX-License-Identifier: MIT
 */
/* vt-test: labels=concurrency */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core_helpers.h"
#include "harness.h"

/* Internal, reached through the static library. */
int32_t vt__nh_index(double v, int32_t schema);
int32_t vt__nh_schema_for_factor(double factor);
void vt__nh_init(void);

/* Does index i at schema s hold v: 2^((i-1)/2^s) < v <= 2^(i/2^s)? */
static int holds(int32_t i, int32_t s, double v) {
    long double scale = exp2l((long double)s);
    return exp2l((long double)(i - 1) / scale) < (long double)v &&
           (long double)v <= exp2l((long double)i / scale);
}

static void test_index_formula(void) {
    vt__nh_init();
    for (int32_t s = -4; s <= 8; s++) {
        int bad = 0;
        for (int k = -30; k <= 30 && bad < 3; k++) {
            double p = ldexp(1, k); /* exact powers of two are upper bounds */
            double vals[] = {p, nextafter(p, 0), nextafter(p, INFINITY), p * 1.3, p * 0.7};
            for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
                int32_t i = vt__nh_index(vals[j], s);
                if (!holds(i, s, vals[j])) {
                    fprintf(stderr, "schema %d: %.17g -> index %d\n", s, vals[j], i);
                    bad++;
                }
            }
            /* 2^k sits exactly at index k * 2^s for s >= 0. */
            if (s >= 0 && vt__nh_index(p, s) != k * (1 << s)) {
                fprintf(stderr, "schema %d: 2^%d -> %d\n", s, k, vt__nh_index(p, s));
                bad++;
            }
        }
        uint64_t r = 0x9E3779B97F4A7C15u;
        for (int n = 0; n < 20000 && bad < 3; n++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            double v = ldexp((double)(r >> 11) / 9007199254740992.0 + 0.5, (int)(r % 80) - 40);
            if (!holds(vt__nh_index(v, s), s, v)) {
                fprintf(stderr, "schema %d: %.17g -> %d\n", s, v, vt__nh_index(v, s));
                bad++;
            }
        }
        CHECK_INT(bad, 0);
    }
}

static void test_schema_from_factor(void) {
    CHECK_INT(vt__nh_schema_for_factor(1.1), 3);
    CHECK_INT(vt__nh_schema_for_factor(2), 0);
    CHECK_INT(vt__nh_schema_for_factor(1.5), 1);
    CHECK_INT(vt__nh_schema_for_factor(1.0001), 8);
    CHECK_INT(vt__nh_schema_for_factor(65536), -4);
    CHECK_INT(vt__nh_schema_for_factor(1e300), -4);
}

/* What a visit sees of the one native histogram series of a registry. */
typedef struct seen {
    int found;
    int32_t schema;
    double zt;
    uint64_t zero, buckets, count;
    size_t npos, nneg;
    int32_t first_pos, last_neg;
    double sum;
} seen_t;

static int see(const vt_sample_family_t *f, void *ud) {
    seen_t *s = ud;
    if (f->type != VT_HISTOGRAM || f->series_count != 1 || !f->series[0].has_native)
        return 0;
    const vt_sample_series_t *x = &f->series[0];
    s->found = 1;
    s->schema = x->native_schema;
    s->zt = x->native_zero_threshold;
    s->zero = x->native_zero_count;
    s->npos = x->native_positive_count;
    s->nneg = x->native_negative_count;
    s->buckets = 0;
    for (size_t i = 0; i < x->native_positive_count; i++) {
        s->buckets += x->native_positive[i].count;
        if (i && x->native_positive[i].index <= x->native_positive[i - 1].index)
            s->buckets = UINT64_MAX / 2; /* not sorted: fail the totals */
    }
    for (size_t i = 0; i < x->native_negative_count; i++)
        s->buckets += x->native_negative[i].count;
    s->first_pos = x->native_positive_count ? x->native_positive[0].index : 0;
    s->count = x->count;
    s->sum = x->sum;
    return 0;
}

static seen_t look(vt_registry_t *reg) {
    seen_t s;
    memset(&s, 0, sizeof s);
    CHECK_INT(vt_registry_visit(reg, see, &s), 0);
    CHECK(s.found);
    return s;
}

static uint64_t fake_ns;
static uint64_t fake_clock(void *ud) {
    (void)ud;
    return fake_ns;
}

static vt_histogram_series_t *make(vt_registry_t *reg, vt_metric_opts_t *o) {
    vt_histogram_t *h;
    vt_histogram_series_t *s = NULL;
    CHECK_INT(vt_histogram_create_opts(reg, o, &h), 0);
    CHECK_INT(vt_histogram_set_native_clock(h, fake_clock, NULL), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &s), 0);
    return s;
}

static void test_buckets_zero_and_negatives(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "t_seconds";
    o.native_bucket_factor = 1.1;
    o.native_zero_threshold = 0.001;
    vt_histogram_series_t *s = make(reg, &o);
    vt_histogram_observe(s, 0.0005); /* zero bucket */
    vt_histogram_observe(s, 0);
    vt_histogram_observe(s, -0.001); /* |v| == threshold: zero */
    vt_histogram_observe(s, 1);      /* index 0 at schema 3 */
    vt_histogram_observe(s, 1);
    vt_histogram_observe(s, 1.05); /* index 1 */
    vt_histogram_observe(s, -2);   /* negative side */
    seen_t x = look(reg);
    CHECK_INT(x.schema, 3);
    CHECK_DBL(x.zt, 0.001);
    CHECK_INT(x.zero, 3);
    CHECK_INT(x.npos, 2);
    CHECK_INT(x.first_pos, 0);
    CHECK_INT(x.nneg, 1);
    CHECK_INT(x.buckets + x.zero, 7);
    CHECK_INT(x.count, 7);
    /* The text formats show the classic side: only +Inf without buckets. */
    char *text = scrape(reg);
    CHECK(has_line(text, "t_seconds_bucket{le=\"+Inf\"} 7"));
    CHECK(count_lines_with_prefix(text, "t_seconds_bucket{") == 1);
    free(text);
    vt_registry_destroy(reg);
}

static void test_halve_resolution(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "h_seconds";
    o.native_bucket_factor = 1.01; /* schema 6 */
    o.native_max_buckets = 8;
    vt_histogram_series_t *s = make(reg, &o);
    for (int i = 1; i <= 200; i++)
        vt_histogram_observe(s, i * 0.01);
    seen_t x = look(reg);
    CHECK(x.schema < 6);
    CHECK(x.npos <= 2 * 8); /* within the limit, give or take the last merge */
    CHECK_INT(x.buckets + x.zero, 200);
    vt_registry_destroy(reg);
}

static void test_widen_zero_bucket(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "w_seconds";
    o.native_bucket_factor = 1.1;
    o.native_max_buckets = 4;
    o.native_max_zero_threshold = 0.01;
    vt_histogram_series_t *s = make(reg, &o);
    double tiny[] = {1e-6, 1e-5, 1e-4, 1e-3, 2e-3, 5e-3};
    for (size_t i = 0; i < 6; i++)
        vt_histogram_observe(s, tiny[i]);
    seen_t x = look(reg);
    CHECK(x.zt > ldexp(1, -64)); /* widened */
    CHECK(x.zt <= 0.01);
    CHECK_INT(x.schema, 3); /* resolution kept while widening sufficed */
    CHECK(x.zero >= 1);
    CHECK_INT(x.buckets + x.zero, 6);
    vt_registry_destroy(reg);
}

static void test_reset_after_min_duration(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "r_seconds";
    o.native_bucket_factor = 1.1;
    o.native_max_buckets = 4;
    o.native_min_reset_seconds = 60;
    fake_ns = 1000000000000u;
    vt_histogram_series_t *s = make(reg, &o);
    for (int i = 1; i <= 6; i++) /* no reset yet: halves instead */
        vt_histogram_observe(s, i * 1.0);
    seen_t x = look(reg);
    CHECK_INT(x.buckets + x.zero, 6);
    fake_ns += 61000000000u; /* a minute later the limit resets the buckets */
    for (int i = 1; i <= 5; i++)
        vt_histogram_observe(s, i * 100.0);
    x = look(reg);
    CHECK_INT(x.schema, 3);            /* back to the configured resolution */
    CHECK(x.buckets + x.zero < 6 + 5); /* older observations are gone from the buckets */
    CHECK(x.buckets + x.zero >= 1);
    CHECK_INT(x.count, 11); /* count and sum stay cumulative */
    CHECK_DBL(x.sum, 21 + 1500);
    vt_registry_destroy(reg);
}

static void test_bad_options(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_histogram_t *h = NULL;
    vt_metric_opts_init(&o);
    o.name = "b_seconds";
    o.native_bucket_factor = 1;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), VT_ERANGE);
    o.native_bucket_factor = NAN;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), VT_ERANGE);
    o.native_bucket_factor = 1.1;
    o.native_zero_threshold = -1;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), VT_ERANGE);
    CHECK(h == NULL);
    CHECK_INT(vt_histogram_create(reg, "b_seconds", "classic", NULL, NULL, 0, &h), 0);
    CHECK_INT(vt_histogram_set_native_clock(h, fake_clock, NULL), VT_ESTATE);
    vt_registry_destroy(reg);
}

/* Writers trigger the limit strategies while a visitor reads: every
 * observation ends up in exactly one bucket or the zero bucket. */
static vt_histogram_series_t *shared;
static _Atomic int stop_visits;
static void *writer(void *arg) {
    double base = *(double *)arg;
    for (int i = 0; i < 20000; i++)
        vt_histogram_observe(shared, base * (1 + i % 997));
    return NULL;
}
static void *visitor(void *arg) {
    while (!atomic_load(&stop_visits)) {
        seen_t s;
        memset(&s, 0, sizeof s);
        vt_registry_visit(arg, see, &s);
    }
    return NULL;
}

static void test_concurrent_conservation(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "c_seconds";
    o.native_bucket_factor = 1.001; /* schema 8: the limit forces many halvings */
    o.native_max_buckets = 40;
    o.native_max_zero_threshold = 1e-3;
    shared = make(reg, &o);
    pthread_t a, b, v;
    double ba = 1e-4, bb = 1e-2;
    pthread_create(&v, NULL, visitor, reg);
    pthread_create(&a, NULL, writer, &ba);
    pthread_create(&b, NULL, writer, &bb);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    atomic_store(&stop_visits, 1);
    pthread_join(v, NULL);
    seen_t x = look(reg);
    CHECK_INT(x.count, 40000);
    CHECK_INT(x.buckets + x.zero, 40000);
    CHECK(x.schema < 8);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_index_formula);
    RUN(test_schema_from_factor);
    RUN(test_buckets_zero_and_negatives);
    RUN(test_halve_resolution);
    RUN(test_widen_zero_bucket);
    RUN(test_reset_after_min_duration);
    RUN(test_bad_options);
    RUN(test_concurrent_conservation);
    TEST_EXIT();
}
