/* test_summary_quantiles.c - summary objectives: error bound and sliding window.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core_helpers.h"
#include "expose_tools.h"
#include "harness.h"

static const double objectives[] = {0, 0.1, 0.5, 0.9, 0.99, 0.999, 1};
#define NOBJ (sizeof objectives / sizeof objectives[0])

static uint64_t fake_now;
static uint64_t fake_clock(void *ud) {
    (void)ud;
    return fake_now;
}

static int create(vt_registry_t *reg, const char *name, double rel, double max_age,
                  vt_summary_series_t **out) {
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = name;
    o.help = "Quantile test.";
    o.quantiles = objectives;
    o.quantile_count = NOBJ;
    o.relative_error = rel;
    o.max_age_seconds = max_age;
    vt_summary_t *s;
    int rc = vt_summary_create_opts(reg, &o, &s);
    if (rc)
        return rc;
    CHECK_INT(vt_summary_set_clock(s, fake_clock, NULL), 0);
    return vt_summary_with(s, NULL, out);
}

static double quantile(vt_registry_t *reg, const char *name, double q) {
    char qs[VT_DOUBLE_BUFSZ];
    vt_format_double(q, qs);
    double v = -12345;
    CHECK_INT(vt_registry_get_sample_value(reg, name, VT_LABELS("quantile"), VT_VALUES(qs), &v), 0);
    return v;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng = 88172645463325252u;
static double uniform(void) { /* [0, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* Feed the stream, then check every objective against the exact order
 * statistic of rank floor(q (n - 1)). */
static void check_stream(const char *name, double *v, size_t n, double rel) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_summary_series_t *s;
    CHECK_INT(create(reg, name, rel, 600, &s), 0);
    for (size_t i = 0; i < n; i++)
        vt_summary_observe(s, v[i]);
    qsort(v, n, sizeof *v, cmp);
    for (size_t k = 0; k < NOBJ; k++) {
        double exact = v[(size_t)(objectives[k] * (double)(n - 1))];
        double got = quantile(reg, name, objectives[k]);
        double bound = fabs(exact) < 1e-9 ? 1e-9 : rel * fabs(exact) * (1 + 1e-12);
        if (!(fabs(got - exact) <= bound)) {
            fprintf(stderr, "%s q=%g: got %.17g, exact %.17g, bound %g\n", name, objectives[k], got,
                    exact, bound);
            th_checks_failed++;
        }
    }
    uint64_t count;
    double sum;
    vt_summary_get(s, &count, &sum);
    CHECK_INT(count, n);
    vt_registry_destroy(reg);
}

#define N 100000

static void test_error_bound_streams(void) {
    static double v[N];
    for (double rel = 0.01; rel <= 0.05; rel *= 5) {
        for (size_t i = 0; i < N; i++) /* uniform */
            v[i] = uniform() * 10;
        check_stream("uniform_seconds", v, N, rel);
        for (size_t i = 0; i < N; i++) /* sorted */
            v[i] = 0.001 + (double)i * 1e-4;
        check_stream("sorted_seconds", v, N, rel);
        for (size_t i = 0; i < N; i++) /* reversed */
            v[i] = 0.001 + (double)(N - i) * 1e-4;
        check_stream("reversed_seconds", v, N, rel);
        for (size_t i = 0; i < N; i++) /* bimodal: fast cache hits, slow misses */
            v[i] = i % 10 ? 0.0005 + uniform() * 1e-4 : 1 + uniform();
        check_stream("bimodal_seconds", v, N, rel);
        for (size_t i = 0; i < N; i++) /* heavy tail: Pareto, alpha 1.1 */
            v[i] = 0.01 / pow(1 - uniform(), 1 / 1.1);
        check_stream("pareto_seconds", v, N, rel);
        for (size_t i = 0; i < N; i++) /* both signs, and zeros */
            v[i] = i % 7 == 0 ? 0 : (uniform() - 0.5) * 200;
        check_stream("signed_celsius", v, N, rel);
        for (size_t i = 0; i < N; i++) /* adversarial: alternating extremes */
            v[i] = i % 2 ? 1e-6 * (1 + (double)i) : 1e6 / (1 + (double)i);
        check_stream("alternating_seconds", v, N, rel);
    }
}

static void test_window_forgets_on_schedule(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_summary_series_t *s;
    fake_now = 1000000000000u;                        /* any start */
    uint64_t t0 = fake_now - fake_now % 12000000000u; /* a slice boundary (60 s / 5) */
    fake_now = t0;
    CHECK_INT(create(reg, "win_seconds", 0.01, 60, &s), 0);
    CHECK(isnan(quantile(reg, "win_seconds", 0.5))); /* empty window */
    vt_summary_observe(s, 1.0);
    fake_now = t0 + 47000000000u; /* 47 s later: still inside */
    CHECK(fabs(quantile(reg, "win_seconds", 0.5) - 1.0) <= 0.01);
    fake_now = t0 + 59999000000u;
    CHECK(fabs(quantile(reg, "win_seconds", 0.5) - 1.0) <= 0.01);
    fake_now = t0 + 60000000000u; /* the slice of t0 has left the window */
    CHECK(isnan(quantile(reg, "win_seconds", 0.5)));
    vt_summary_observe(s, 3.0);
    CHECK(fabs(quantile(reg, "win_seconds", 0.5) - 3.0) <= 0.03);
    /* A slice is reused 60 s later and starts from zero. */
    fake_now = t0 + 120000000000u + 1;
    vt_summary_observe(s, 5.0);
    CHECK(fabs(quantile(reg, "win_seconds", 0.99) - 5.0) <= 0.05);
    CHECK(fabs(quantile(reg, "win_seconds", 0) - 5.0) <= 0.05);
    /* Count and sum are for all time, as in every client. */
    uint64_t count;
    double sum;
    vt_summary_get(s, &count, &sum);
    CHECK_INT(count, 3);
    CHECK_DBL(sum, 9);
    vt_registry_destroy(reg);
}

static void test_exposition_and_parsers(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "rpc_seconds";
    o.help = "RPC latency.";
    o.label_names = VT_LABELS("method");
    static const double q[] = {0.5, 0.9, 0.99};
    o.quantiles = q;
    o.quantile_count = 3;
    vt_summary_t *sm;
    CHECK_INT(vt_summary_create_opts(reg, &o, &sm), 0);
    vt_summary_series_t *s;
    CHECK_INT(vt_summary_with(sm, VT_VALUES("get"), &s), 0);
    for (int i = 1; i <= 100; i++)
        vt_summary_observe(s, i / 100.0);
    char *text = scrape(reg);
    CHECK_CONTAINS(text, "rpc_seconds{method=\"get\",quantile=\"0.5\"} ");
    CHECK_CONTAINS(text, "rpc_seconds{method=\"get\",quantile=\"0.99\"} ");
    CHECK_CONTAINS(text, "rpc_seconds_count{method=\"get\"} 100\n");
    CHECK(tools_python_check("summary text", "text", text, NULL));
    free(text);
    char *om = scrape_fmt(reg, VT_FORMAT_OPENMETRICS);
    CHECK_CONTAINS(om, "rpc_seconds{method=\"get\",quantile=\"0.9\"} ");
    CHECK(tools_python_check("summary openmetrics", "openmetrics", om, NULL));
    free(om);
    vt_registry_destroy(reg);
}

static void test_bad_options(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_summary_t *s = NULL;
    static const double over[] = {0.5, 1.5}, unsorted[] = {0.9, 0.5}, ok[] = {0.5};
    vt_metric_opts_init(&o);
    o.name = "a";
    o.quantiles = over;
    o.quantile_count = 2;
    CHECK_INT(vt_summary_create_opts(reg, &o, &s), VT_ERANGE);
    o.quantiles = unsorted;
    CHECK_INT(vt_summary_create_opts(reg, &o, &s), VT_ERANGE);
    o.quantiles = ok;
    o.quantile_count = 1;
    o.relative_error = 0.6;
    CHECK_INT(vt_summary_create_opts(reg, &o, &s), VT_ERANGE);
    o.relative_error = 0;
    o.age_buckets = 65;
    CHECK_INT(vt_summary_create_opts(reg, &o, &s), VT_ERANGE);
    o.age_buckets = 0;
    o.quantiles = NULL;
    CHECK_INT(vt_summary_create_opts(reg, &o, &s), VT_EINVAL);
    CHECK(s == NULL);
    /* Nothing half-made was registered: the name is still free. */
    CHECK_INT(vt_summary_create(reg, "a", "plain", NULL, &s), 0);
    CHECK_INT(vt_summary_set_clock(s, fake_clock, NULL), VT_ESTATE);
    vt_registry_destroy(reg);
}

/* Two threads observe while a third scrapes; the clock moves on meanwhile, so
 * slices rotate under the writers. */
static _Atomic uint64_t atomic_now;
static vt_summary_series_t *shared;
static vt_registry_t *shared_reg;
static _Atomic int writers_done;

static void *observer(void *arg) {
    double base = *(double *)arg;
    for (int i = 0; i < 50000; i++) {
        vt_summary_observe(shared, base + (i % 100) * 0.01);
        if (i % 5000 == 0) /* 3 s: the 120 s slices rotate now and then */
            atomic_fetch_add_explicit(&atomic_now, 3000000000u, memory_order_relaxed);
    }
    return NULL;
}

static void *scraper(void *arg) {
    (void)arg;
    while (!atomic_load(&writers_done)) {
        vt_buf_t b = {0};
        vt_registry_write_buf(shared_reg, NULL, &b);
        vt_buf_free(&b);
    }
    return NULL;
}

static uint64_t atomic_clock(void *ud) {
    (void)ud;
    return atomic_load_explicit(&atomic_now, memory_order_relaxed);
}

static void test_concurrent_observers(void) {
    CHECK_INT(vt_registry_create(&shared_reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "conc_seconds";
    o.quantiles = objectives;
    o.quantile_count = NOBJ;
    vt_summary_t *sm;
    CHECK_INT(vt_summary_create_opts(shared_reg, &o, &sm), 0);
    CHECK_INT(vt_summary_set_clock(sm, atomic_clock, NULL), 0);
    CHECK_INT(vt_summary_with(sm, NULL, &shared), 0);
    pthread_t a, b, c;
    double base_a = 1, base_b = 2;
    pthread_create(&c, NULL, scraper, NULL);
    pthread_create(&a, NULL, observer, &base_a);
    pthread_create(&b, NULL, observer, &base_b);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    atomic_store(&writers_done, 1);
    pthread_join(c, NULL);
    uint64_t count;
    double sum;
    vt_summary_get(shared, &count, &sum);
    CHECK_INT(count, 100000);
    /* All observations lie in [1, 2.99]: every quantile must too (±1%). */
    for (size_t k = 0; k < NOBJ; k++) {
        double q = quantile(shared_reg, "conc_seconds", objectives[k]);
        CHECK(q >= 0.99 && q <= 2.99 * 1.01);
    }
    vt_registry_destroy(shared_reg);
}

/* Values on and next to the bins' bounds g^i, where the table-driven bin
 * lookup must agree with ceil(log(x) / log(g)); one value per summary, so
 * every objective is that value, within the relative error. Also at the
 * ends of the kept range and at both relative errors of the table path. */
static void test_bin_bounds(void) {
    const double rels[] = {0.01, 0.05, 0.001};
    for (size_t r = 0; r < 3; r++) {
        double rel = rels[r], g = (1 + rel) / (1 - rel);
        for (int i = -1000; i <= 1700; i += 37) {
            double b = pow(g, i);
            if (b < 1e-9 || b > 1e15)
                continue;
            const double xs[] = {b, nextafter(b, 0), nextafter(b, INFINITY), -b};
            for (size_t k = 0; k < 4; k++) {
                vt_registry_t *reg;
                CHECK_INT(vt_registry_create(&reg), 0);
                vt_summary_series_t *s;
                CHECK_INT(create(reg, "bounds_seconds", rel, 600, &s), 0);
                vt_summary_observe(s, xs[k]);
                double got = quantile(reg, "bounds_seconds", 0.5);
                if (!(fabs(got - xs[k]) <= rel * fabs(xs[k]) * (1 + 1e-12))) {
                    fprintf(stderr, "rel %g, x %.17g: got %.17g\n", rel, xs[k], got);
                    th_checks_failed++;
                }
                vt_registry_destroy(reg);
            }
        }
    }
}

int main(void) {
    if (!tools_have_python_client())
        SKIP_ALL("python3-prometheus-client is not installed");
    RUN(test_error_bound_streams);
    RUN(test_bin_bounds);
    RUN(test_window_forgets_on_schedule);
    RUN(test_exposition_and_parsers);
    RUN(test_bad_options);
    RUN(test_concurrent_observers);
    tools_cleanup();
    TEST_EXIT();
}
