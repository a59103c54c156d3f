/* test_histogram.c - histogram buckets: defaults, boundaries, helpers, bad bounds.
 *
 * A bucket's upper bound is inclusive (a value equal to a bound lands in that
 * bucket), the exposed buckets are cumulative, _count equals the +Inf bucket.
 * Families with more than 32 bounds take the binary-search path; it is checked
 * against a plain linear reference over many random values.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdint.h>

#include "core_helpers.h"
#include "harness.h"
#include "vitals.h"

static double bucket(vt_registry_t *reg, const char *name, const char *le) {
    return sample(reg, name, VT_LABELS("le"), VT_VALUES(le));
}

static void test_default_buckets(void) {
    size_t n = 0;
    const double *b = vt_buckets_default(&n);
    static const double want[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
    CHECK_INT(n, 11);
    for (size_t i = 0; i < 11 && i < n; i++)
        CHECK_DBL(b[i], want[i]);
    CHECK(vt_buckets_default(NULL) == b);

    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create(reg, "lat_seconds", "h", NULL, NULL, 0, &h), 0);
    CHECK_INT(vt_family_type(vt_histogram_family(h)), VT_HISTOGRAM);
    vt_histogram_series_t *s;
    CHECK_INT(vt_histogram_with(h, NULL, &s), 0);
    char *text = scrape(reg);
    static const char *const les[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                      "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
    for (size_t i = 0; i < 12; i++) {
        char line[64];
        snprintf(line, sizeof line, "lat_seconds_bucket{le=\"%s\"} 0", les[i]);
        CHECK_LINE(text, line);
    }
    CHECK_INT(count_lines_with_prefix(text, "lat_seconds_bucket{"), 12);
    CHECK_LINE(text, "lat_seconds_sum 0");
    CHECK_LINE(text, "lat_seconds_count 0");
    free(text);
    vt_registry_destroy(reg);
}

static void test_boundaries_cumulative(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create(reg, "d", "h", NULL, NULL, 0, &h), 0);
    vt_histogram_series_t *s;
    CHECK_INT(vt_histogram_with(h, NULL, &s), 0);
    /* Exactly on bounds: le is inclusive. */
    vt_histogram_observe(s, 0.005);
    vt_histogram_observe(s, 0.1);
    vt_histogram_observe(s, 1);
    vt_histogram_observe(s, 10);
    /* Just above bounds go to the next bucket. */
    vt_histogram_observe(s, nextafter(0.005, 1));
    vt_histogram_observe(s, nextafter(10, 100));
    /* Far below and above. */
    vt_histogram_observe(s, -5);
    vt_histogram_observe(s, 1e9);
    vt_histogram_observe(s, INFINITY);
    vt_histogram_observe(s, -INFINITY);

    CHECK_DBL(bucket(reg, "d_bucket", "0.005"), 3); /* -5, -Inf, 0.005 */
    CHECK_DBL(bucket(reg, "d_bucket", "0.01"), 4);  /* + just above 0.005 */
    CHECK_DBL(bucket(reg, "d_bucket", "0.025"), 4);
    CHECK_DBL(bucket(reg, "d_bucket", "0.05"), 4);
    CHECK_DBL(bucket(reg, "d_bucket", "0.1"), 5);
    CHECK_DBL(bucket(reg, "d_bucket", "0.25"), 5);
    CHECK_DBL(bucket(reg, "d_bucket", "0.5"), 5);
    CHECK_DBL(bucket(reg, "d_bucket", "1"), 6);
    CHECK_DBL(bucket(reg, "d_bucket", "2.5"), 6);
    CHECK_DBL(bucket(reg, "d_bucket", "5"), 6);
    CHECK_DBL(bucket(reg, "d_bucket", "10"), 7);
    CHECK_DBL(bucket(reg, "d_bucket", "+Inf"), 10);
    CHECK_DBL(sample(reg, "d_count", NULL, NULL), 10);
    /* The sum of +Inf and -Inf is NaN; that is what was observed. */
    CHECK(isnan(sample(reg, "d_sum", NULL, NULL)));
    /* A bound that does not exist. */
    CHECK(isnan(bucket(reg, "d_bucket", "0.3")));
    CHECK(isnan(sample(reg, "d_bucket", NULL, NULL)));
    vt_registry_destroy(reg);
}

static void test_sum_count_nan(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create(reg, "d", "h", VT_LABELS("op"), NULL, 0, &h), 0);
    vt_histogram_series_t *s;
    CHECK_INT(vt_histogram_with(h, VT_VALUES("read"), &s), 0);
    vt_histogram_observe(s, 0.2);
    vt_histogram_observe(s, 0.3);
    vt_histogram_observe(s, 7);
    uint64_t count = 0;
    double sum = 0;
    vt_histogram_get(s, &count, &sum);
    CHECK_INT(count, 3);
    CHECK_DBL(sum, 0.2 + 0.3 + 7);

    vt_histogram_observe(s, NAN);
    vt_histogram_get(s, &count, &sum);
    CHECK_INT(count, 3);
    CHECK_DBL(sum, 0.2 + 0.3 + 7);
    CHECK_DBL(errors_of_kind(reg, "nan_value"), 1);

    const char *const ln[] = {"op", "le", NULL};
    const char *const lv[] = {"read", "+Inf", NULL};
    CHECK_DBL(sample(reg, "d_bucket", ln, lv), 3);
    const char *const lv2[] = {"read", "0.25", NULL};
    CHECK_DBL(sample(reg, "d_bucket", ln, lv2), 1);
    /* Label order does not matter. */
    const char *const ln_rev[] = {"le", "op", NULL};
    const char *const lv_rev[] = {"0.5", "read", NULL};
    CHECK_DBL(sample(reg, "d_bucket", ln_rev, lv_rev), 2);
    CHECK_DBL(sample(reg, "d_count", VT_LABELS("op"), VT_VALUES("read")), 3);
    CHECK_DBL(sample(reg, "d_sum", VT_LABELS("op"), VT_VALUES("read")), 7.5);

    char *text = scrape(reg);
    CHECK_LINE(text, "d_bucket{op=\"read\",le=\"+Inf\"} 3");
    CHECK_LINE(text, "d_count{op=\"read\"} 3");
    CHECK_LINE(text, "d_sum{op=\"read\"} 7.5");
    free(text);
    /* The histogram's own reserved label. */
    vt_histogram_t *bad = NULL;
    CHECK_INT(vt_histogram_create(reg, "d2", "h", VT_LABELS("le"), NULL, 0, &bad), VT_ERESERVED);
    CHECK(bad == NULL);
    vt_registry_destroy(reg);
}

static void test_custom_buckets(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    static const double b[] = {-1, 0, 1e-5, 3, 1e6};
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create(reg, "c", "h", NULL, b, 5, &h), 0);
    vt_histogram_series_t *s;
    CHECK_INT(vt_histogram_with(h, NULL, &s), 0);
    vt_histogram_observe(s, -1);
    vt_histogram_observe(s, -0.5);
    vt_histogram_observe(s, 0);
    vt_histogram_observe(s, 2e6);
    char *text = scrape(reg);
    CHECK_LINE(text, "c_bucket{le=\"-1\"} 1");
    CHECK_LINE(text, "c_bucket{le=\"0\"} 3");
    CHECK_LINE(text, "c_bucket{le=\"1e-05\"} 3");
    CHECK_LINE(text, "c_bucket{le=\"3\"} 3");
    CHECK_LINE(text, "c_bucket{le=\"1e+06\"} 3");
    CHECK_LINE(text, "c_bucket{le=\"+Inf\"} 4");
    CHECK_INT(count_lines_with_prefix(text, "c_bucket{"), 6);
    free(text);
    text = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK_LINE(text, "c_bucket{le=\"-1.0\"} 1");
    CHECK_LINE(text, "c_bucket{le=\"0.0\"} 3");
    CHECK_LINE(text, "c_bucket{le=\"+Inf\"} 4");
    free(text);

    /* A trailing +Inf is accepted and not duplicated. */
    static const double with_inf[] = {1, 2, INFINITY};
    vt_histogram_t *h2;
    CHECK_INT(vt_histogram_create(reg, "i", "h", NULL, with_inf, 3, &h2), 0);
    vt_histogram_series_t *s2;
    CHECK_INT(vt_histogram_with(h2, NULL, &s2), 0);
    vt_histogram_observe(s2, 5);
    text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "i_bucket{"), 3);
    CHECK_INT(count_lines_with_prefix(text, "i_bucket{le=\"+Inf\"}"), 1);
    CHECK_LINE(text, "i_bucket{le=\"+Inf\"} 1");
    free(text);

    /* Only +Inf: one bucket. */
    static const double only_inf[] = {INFINITY};
    vt_histogram_t *h3;
    CHECK_INT(vt_histogram_create(reg, "o", "h", NULL, only_inf, 1, &h3), 0);
    vt_histogram_series_t *s3;
    CHECK_INT(vt_histogram_with(h3, NULL, &s3), 0);
    vt_histogram_observe(s3, 1);
    text = scrape(reg);
    CHECK_INT(count_lines_with_prefix(text, "o_bucket{"), 1);
    CHECK_LINE(text, "o_bucket{le=\"+Inf\"} 1");
    free(text);

    /* The caller's array is copied. */
    double mine[] = {1, 2};
    vt_histogram_t *h4;
    CHECK_INT(vt_histogram_create(reg, "m", "h", NULL, mine, 2, &h4), 0);
    mine[0] = 100;
    mine[1] = 200;
    vt_histogram_series_t *s4;
    CHECK_INT(vt_histogram_with(h4, NULL, &s4), 0);
    text = scrape(reg);
    CHECK_LINE(text, "m_bucket{le=\"1\"} 0");
    CHECK_LINE(text, "m_bucket{le=\"2\"} 0");
    free(text);
    (void)s;
    vt_registry_destroy(reg);
}

static void test_bad_bounds(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    struct {
        double b[4];
        size_t n;
    } bad[] = {
        {{2, 1}, 2},           /* unsorted */
        {{1, 1}, 2},           /* duplicate */
        {{1, 2, 2, 3}, 4},     /* duplicate inside */
        {{NAN}, 1},            /* NaN */
        {{1, NAN, 3}, 3},      /* NaN inside */
        {{-INFINITY, 1}, 2},   /* -Inf */
        {{1, INFINITY, 2}, 3}, /* +Inf not last */
        {{INFINITY, INFINITY}, 2},
        {{0, -0.0}, 2}, /* equal values */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vt_histogram_t *h = NULL;
        int rc = vt_histogram_create(reg, "bad", "h", NULL, bad[i].b, bad[i].n, &h);
        if (rc != VT_EBUCKETS)
            fprintf(stderr, "case %zu\n", i);
        CHECK_INT(rc, VT_EBUCKETS);
        CHECK(h == NULL);
    }
    /* Through the opts call too. */
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "bad";
    static const double unsorted[] = {3, 2, 1};
    o.buckets = unsorted;
    o.bucket_count = 3;
    vt_histogram_t *h = NULL;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), VT_EBUCKETS);
    CHECK(h == NULL);

    /* Too many bounds. */
    double many[1000];
    for (int i = 0; i < 1000; i++)
        many[i] = i;
    CHECK_INT(vt_histogram_create(reg, "bad", "h", NULL, many, 1000, &h), VT_ELIMIT);
    CHECK_INT(vt_histogram_create(reg, "bad", "h", NULL, many, 258, &h), VT_ELIMIT);
    CHECK_INT(vt_histogram_create(reg, "bad", "h", NULL, many, 257, &h), VT_ELIMIT);
    CHECK(h == NULL);
    /* A trailing +Inf does not count against the limit. */
    many[256] = INFINITY;
    CHECK_INT(vt_histogram_create(reg, "ok257", "h", NULL, many, 257, &h), 0);
    many[256] = 256;
    /* 256 bounds are fine. */
    CHECK_INT(vt_histogram_create(reg, "ok256", "h", NULL, many, 256, &h), 0);
    CHECK(h != NULL);

    /* Nothing named "bad" was left behind. */
    char *text = scrape(reg);
    CHECK_NOT_CONTAINS(text, "bad");
    free(text);
    CHECK_INT(vt_histogram_create(reg, "bad", "h", NULL, NULL, 0, &h), 0);
    vt_registry_destroy(reg);
}

static void test_helpers(void) {
    double out[8];
    CHECK_INT(vt_buckets_linear(1, 0.5, 4, out), 0);
    CHECK_DBL(out[0], 1);
    CHECK_DBL(out[1], 1.5);
    CHECK_DBL(out[2], 2);
    CHECK_DBL(out[3], 2.5);
    CHECK_INT(vt_buckets_linear(-10, 5, 3, out), 0);
    CHECK_DBL(out[0], -10);
    CHECK_DBL(out[2], 0);
    CHECK_INT(vt_buckets_exponential(0.001, 10, 4, out), 0);
    CHECK_DBL(out[0], 0.001);
    CHECK(fabs(out[1] - 0.01) < 1e-15);
    CHECK(fabs(out[3] - 1) < 1e-12);
    CHECK_INT(vt_buckets_exponential(1, 2, 5, out), 0);
    CHECK_DBL(out[4], 16);

    out[0] = 42;
    CHECK_INT(vt_buckets_linear(1, 1, 0, out), VT_EINVAL);
    CHECK_INT(vt_buckets_linear(1, 0, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_linear(1, -1, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_linear(NAN, 1, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_linear(INFINITY, 1, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_linear(1, NAN, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_linear(1, INFINITY, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_linear(1e308, 1e308, 3, out), VT_EINVAL); /* overflows */
    CHECK_INT(vt_buckets_linear(1, 1, 3, NULL), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(1, 2, 0, out), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(0, 2, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(-1, 2, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(1, 1, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(1, 0.5, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(1, NAN, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(NAN, 2, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(1, INFINITY, 3, out), VT_EINVAL);
    CHECK_INT(vt_buckets_exponential(1e300, 1e10, 3, out), VT_EINVAL); /* overflows */
    CHECK_INT(vt_buckets_exponential(1, 2, 3, NULL), VT_EINVAL);

    /* The helpers' output is accepted as bounds. */
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    double lin[8], ex[8];
    CHECK_INT(vt_buckets_linear(0, 10, 8, lin), 0);
    CHECK_INT(vt_buckets_exponential(0.01, 3, 8, ex), 0);
    vt_histogram_t *h1, *h2;
    CHECK_INT(vt_histogram_create(reg, "lin", "h", NULL, lin, 8, &h1), 0);
    CHECK_INT(vt_histogram_create(reg, "ex", "h", NULL, ex, 8, &h2), 0);
    vt_histogram_series_t *s1, *s2;
    CHECK_INT(vt_histogram_with(h1, NULL, &s1), 0);
    CHECK_INT(vt_histogram_with(h2, NULL, &s2), 0);
    char *text = scrape(reg);
    CHECK_LINE(text, "lin_bucket{le=\"70\"} 0");
    CHECK_INT(count_lines_with_prefix(text, "ex_bucket{"), 9);
    free(text);
    vt_registry_destroy(reg);
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t next_rand(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

/* Checks a family of n bounds (binary search above 32, linear below) against
 * a linear reference, with values on, just beside and between the bounds. */
static void check_search(size_t n) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    double b[256];
    for (size_t i = 0; i < n; i++)
        b[i] = (double)i * 0.75 - 20;
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create(reg, "bs", "h", NULL, b, n, &h), 0);
    vt_histogram_series_t *s;
    CHECK_INT(vt_histogram_with(h, NULL, &s), 0);
    uint64_t ref[257] = {0};
    for (int k = 0; k < 20000; k++) {
        uint64_t r = next_rand();
        double v;
        size_t j = (size_t)(r % n);
        switch ((r >> 32) % 5) {
        case 0:
            v = b[j];
            break;
        case 1:
            v = nextafter(b[j], INFINITY);
            break;
        case 2:
            v = nextafter(b[j], -INFINITY);
            break;
        default:
            v = ((double)(r >> 11) / 9007199254740992.0) * ((double)n * 0.75 + 10) - 25;
        }
        size_t i = 0;
        while (i < n && v > b[i])
            i++;
        ref[i]++;
        vt_histogram_observe(s, v);
    }
    /* Compare cumulative counts bucket by bucket through the exposition. */
    vt_buf_t buf = {0};
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    uint64_t cum = 0;
    int bad = 0;
    for (size_t i = 0; i <= n; i++) {
        cum += ref[i];
        char le[VT_DOUBLE_BUFSZ];
        if (i < n)
            vt_format_double(b[i], le);
        else
            strcpy(le, "+Inf");
        char line[96];
        snprintf(line, sizeof line, "bs_bucket{le=\"%s\"} %llu", le, (unsigned long long)cum);
        if (!has_line(buf.data, line)) {
            if (!bad)
                fprintf(stderr, "n=%zu: missing %s\n", n, line);
            bad = 1;
        }
    }
    CHECK(!bad);
    vt_buf_free(&buf);
    vt_registry_destroy(reg);
}

static void test_bucket_search(void) {
    static const size_t sizes[] = {1, 2, 31, 32, 33, 34, 64, 100, 255, 256};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_search(sizes[i]);
}

static void test_opts_histogram(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "req_duration_seconds";
    o.help = "Request duration.";
    o.unit = "seconds";
    o.label_names = VT_LABELS("route");
    o.const_labels = VT_LABELS("svc", "api");
    static const double b[] = {0.1, 1};
    o.buckets = b;
    o.bucket_count = 2;
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    vt_histogram_series_t *s;
    CHECK_INT(vt_histogram_with(h, VT_VALUES("/a"), &s), 0);
    vt_histogram_observe(s, 0.5);
    char *text = scrape(reg);
    CHECK_LINE(text, "req_duration_seconds_bucket{svc=\"api\",route=\"/a\",le=\"0.1\"} 0");
    CHECK_LINE(text, "req_duration_seconds_bucket{svc=\"api\",route=\"/a\",le=\"1\"} 1");
    CHECK_LINE(text, "req_duration_seconds_bucket{svc=\"api\",route=\"/a\",le=\"+Inf\"} 1");
    CHECK_LINE(text, "req_duration_seconds_sum{svc=\"api\",route=\"/a\"} 0.5");
    CHECK_LINE(text, "req_duration_seconds_count{svc=\"api\",route=\"/a\"} 1");
    free(text);
    const char *const ln[] = {"le", "route", "svc", NULL};
    const char *const lv[] = {"1", "/a", "api", NULL};
    CHECK_DBL(sample(reg, "req_duration_seconds_bucket", ln, lv), 1);
    /* Missing the const label: no such sample. */
    const char *const ln2[] = {"le", "route", NULL};
    const char *const lv2[] = {"1", "/a", NULL};
    CHECK(isnan(sample(reg, "req_duration_seconds_bucket", ln2, lv2)));
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_default_buckets);
    RUN(test_boundaries_cumulative);
    RUN(test_sum_count_nan);
    RUN(test_custom_buckets);
    RUN(test_bad_bounds);
    RUN(test_helpers);
    RUN(test_bucket_search);
    RUN(test_opts_histogram);
    TEST_EXIT();
}
