/* cases_hot.c - the instrumentation hot path: counters, histograms, gauges,
 * two threads on one series, and binding by label values on every call.
 *
 * Every call goes through the public API of the static library, which lives
 * in other translation units, so the compiler cannot fold the loops away.
 * Series are bound once in setup; labeled_inc binds 12 label sets in setup too,
 * so its loop measures the lookup of an existing series, not creation. It
 * passes the same string pointers each time, as code binding literals does,
 * so it mostly hits the per-thread bind cache; labeled_inc_copies passes
 * each label set from 64 separate copies of its strings in turn, more
 * pointer sets than the cache holds, so every bind hashes the values and
 * probes the family's table. The two-thread case times CPU time per thread (see threads.c).
 * All state here belongs to the driver's thread except the shared
 * counter series, which the contended case's workers increment.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "vitals.h"

#define NVALUES 1024u /* observation values, cycled; a power of two */
#define NCOMBOS 12u
#define NCOPIES 64u /* copies of every label set for labeled_inc_copies */

static vt_registry_t *reg;
static vt_counter_series_t *counter, *shared;
static vt_histogram_series_t *histogram;
static vt_histogram_series_t *native;  /* native buckets, factor 1.1 (schema 3), no classic */
static vt_summary_series_t *quantiles; /* objectives 0.5 0.9 0.99 */
static vt_gauge_series_t *gauge;
static vt_counter_t *labeled;
static double values[NVALUES];
static const char *combos[NCOMBOS][4];
static const char *copies[NCOPIES][NCOMBOS][4]; /* strdup'ed, never freed */

/* Log-uniform values from 1 ms to 20 s: every default bucket, +Inf included,
 * gets some. A fixed xorshift seed keeps runs comparable. */
static void fill_values(void) {
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (unsigned i = 0; i < NVALUES; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
        values[i] = 0.001 * pow(20000.0, u);
    }
}

static void fill_combos(void) {
    static const char *const methods[] = {"GET", "POST"};
    static const char *const paths[] = {"/reservations/:user_id", "/reservations", "/health"};
    static const char *const codes[] = {"200", "404"};
    unsigned k = 0;
    for (unsigned m = 0; m < 2; m++)
        for (unsigned p = 0; p < 3; p++)
            for (unsigned c = 0; c < 2; c++, k++) {
                combos[k][0] = methods[m];
                combos[k][1] = paths[p];
                combos[k][2] = codes[c];
                combos[k][3] = NULL;
            }
}

static int fill_copies(void) {
    for (unsigned j = 0; j < NCOPIES; j++)
        for (unsigned k = 0; k < NCOMBOS; k++) {
            for (unsigned i = 0; i < 3; i++)
                if (!(copies[j][k][i] = strdup(combos[k][i])))
                    return -1;
            copies[j][k][3] = NULL;
        }
    return 0;
}

static int fail(const char *what, int rc) {
    fprintf(stderr, "vitals-bench: %s: %s\n", what, vt_strerror(rc));
    return -1;
}

static int setup(int quick) {
    (void)quick;
    if (reg)
        return 0;
    int rc;
    vt_counter_t *c, *cs;
    vt_histogram_t *h;
    vt_gauge_t *g;
    if ((rc = vt_registry_create(&reg)) != 0)
        return fail("vt_registry_create", rc);
    if ((rc = vt_counter_create(reg, "bench_hot_total", "Hot path.", NULL, &c)) != 0 ||
        (rc = vt_counter_with(c, NULL, &counter)) != 0)
        return fail("counter", rc);
    if ((rc = vt_counter_create(reg, "bench_shared_total", "Two threads.", NULL, &cs)) != 0 ||
        (rc = vt_counter_with(cs, NULL, &shared)) != 0)
        return fail("shared counter", rc);
    if ((rc = vt_histogram_create(reg, "bench_hot_seconds", "Hot path.", NULL, NULL, 0, &h)) != 0 ||
        (rc = vt_histogram_with(h, NULL, &histogram)) != 0)
        return fail("histogram", rc);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "bench_native_seconds";
    o.native_bucket_factor = 1.1;
    vt_histogram_t *nh;
    if ((rc = vt_histogram_create_opts(reg, &o, &nh)) != 0 ||
        (rc = vt_histogram_with(nh, NULL, &native)) != 0)
        return fail("native histogram", rc);
    static const double q[] = {0.5, 0.9, 0.99};
    vt_metric_opts_init(&o);
    o.name = "bench_quantiles_seconds";
    o.quantiles = q;
    o.quantile_count = 3;
    vt_summary_t *sm;
    if ((rc = vt_summary_create_opts(reg, &o, &sm)) != 0 ||
        (rc = vt_summary_with(sm, NULL, &quantiles)) != 0)
        return fail("summary with objectives", rc);
    if ((rc = vt_gauge_create(reg, "bench_hot_gauge", "Hot path.", NULL, &g)) != 0 ||
        (rc = vt_gauge_with(g, NULL, &gauge)) != 0)
        return fail("gauge", rc);
    if ((rc = vt_counter_create(reg, "bench_labeled_total", "By labels.",
                                VT_LABELS("method", "path", "code"), &labeled)) != 0)
        return fail("labeled counter", rc);
    fill_values();
    fill_combos();
    if (fill_copies() != 0)
        return fail("strdup", VT_ENOMEM);
    for (unsigned k = 0; k < NCOMBOS; k++) {
        vt_counter_series_t *s;
        if ((rc = vt_counter_with(labeled, combos[k], &s)) != 0)
            return fail("vt_counter_with", rc);
    }
    return 0;
}

static uint64_t per_op(uint64_t ns, uint64_t iters, double *out) {
    out[0] = (double)ns / (double)iters;
    return ns;
}

static uint64_t run_counter_inc(uint64_t iters, double *out) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        vt_counter_inc(counter);
    return per_op(bench_now_ns() - t0, iters, out);
}

static uint64_t run_counter_add(uint64_t iters, double *out) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        vt_counter_add(counter, 0.25);
    return per_op(bench_now_ns() - t0, iters, out);
}

static uint64_t run_histogram_observe(uint64_t iters, double *out) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        vt_histogram_observe(histogram, values[i & (NVALUES - 1)]);
    return per_op(bench_now_ns() - t0, iters, out);
}

static uint64_t run_native_observe(uint64_t iters, double *out) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        vt_histogram_observe(native, values[i & (NVALUES - 1)]);
    return per_op(bench_now_ns() - t0, iters, out);
}

static uint64_t run_summary_quantiles(uint64_t iters, double *out) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        vt_summary_observe(quantiles, values[i & (NVALUES - 1)]);
    return per_op(bench_now_ns() - t0, iters, out);
}

static uint64_t run_gauge_set(uint64_t iters, double *out) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        vt_gauge_set(gauge, values[i & (NVALUES - 1)]);
    return per_op(bench_now_ns() - t0, iters, out);
}

static uint64_t run_gauge_inc(uint64_t iters, double *out) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        vt_gauge_inc(gauge);
    return per_op(bench_now_ns() - t0, iters, out);
}

static void shared_loop(uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        vt_counter_inc(shared);
}

/* One thread alone, then two at once, with the same worker code: out[0] is
 * the per-thread cost of an increment with two threads, out[1] its ratio to
 * the cost alone, out[2] the share of their wall time the two threads were
 * on a processor (below about 0.9 the machine was busy and the two threads
 * overlapped less). */
static uint64_t run_contended(uint64_t iters, double *out) {
    uint64_t one = bench_threads(1, shared_loop, iters, NULL);
    uint64_t two = bench_threads(2, shared_loop, iters, &out[2]);
    if (!one || !two)
        return 0;
    out[0] = (double)two / (double)iters;
    out[1] = (double)two / (double)one;
    return one < two ? one : two;
}

static uint64_t run_labeled_inc(uint64_t iters, double *out) {
    unsigned k = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        vt_counter_series_t *s;
        int rc = vt_counter_with(labeled, combos[k], &s);
        if (rc != 0) {
            fail("vt_counter_with", rc);
            return 0;
        }
        vt_counter_inc(s);
        if (++k == NCOMBOS)
            k = 0;
    }
    return per_op(bench_now_ns() - t0, iters, out);
}

static uint64_t run_labeled_inc_copies(uint64_t iters, double *out) {
    unsigned k = 0, j = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        vt_counter_series_t *s;
        int rc = vt_counter_with(labeled, copies[j][k], &s);
        if (rc != 0) {
            fail("vt_counter_with", rc);
            return 0;
        }
        vt_counter_inc(s);
        if (++k == NCOMBOS) {
            k = 0;
            if (++j == NCOPIES)
                j = 0;
        }
    }
    return per_op(bench_now_ns() - t0, iters, out);
}

#define HOT(name, target, limit)                                                                   \
    { name, "ns/op", 1, target, limit }

static const bench_case_t cases[] = {
    {.rows = {HOT("counter_inc", BENCH_RATIO_AT_MOST, 0.6)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_counter_inc},
    {.rows = {HOT("counter_add", BENCH_NO_TARGET, 0)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_counter_add},
    {.rows = {HOT("histogram_observe", BENCH_RATIO_AT_MOST, 1.5)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_histogram_observe},
    {.rows = {HOT("native_observe", BENCH_NO_TARGET, 0)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_native_observe},
    {.rows = {HOT("summary_quantile_observe", BENCH_NO_TARGET, 0)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_summary_quantiles},
    {.rows = {HOT("gauge_set", BENCH_NO_TARGET, 0)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_gauge_set},
    {.rows = {HOT("gauge_inc", BENCH_NO_TARGET, 0)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_gauge_inc},
    {.rows = {HOT("contended_inc", BENCH_NO_TARGET, 0),
              {"contended_inc_ratio", "x 1 thread", 0, BENCH_AT_MOST, 1.3},
              {"contended_cpu_share", "cpu/wall", 0, BENCH_NO_TARGET, 0}},
     .nrows = 3,
     .quick_iters = 20000,
     .offcpu = 1,
     .setup = setup,
     .run = run_contended},
    {.rows = {HOT("labeled_inc", BENCH_RATIO_AT_MOST, 4.0)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_labeled_inc},
    {.rows = {HOT("labeled_inc_copies", BENCH_NO_TARGET, 0)},
     .nrows = 1,
     .quick_iters = 20000,
     .setup = setup,
     .run = run_labeled_inc_copies},
};

size_t bench_hot_cases(const bench_case_t **out_cases) {
    *out_cases = cases;
    return sizeof cases / sizeof cases[0];
}
