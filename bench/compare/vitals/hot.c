/* hot.c - single-thread workloads of the comparison: the in-run references,
 * counter_inc, labeled_inc, histogram_observe and summary_observe.
 *
 * Every call goes through the public API of the static library, compiled in
 * other translation units, so the compiler cannot fold a loop away. Series are
 * bound before timing; labeled_inc binds its 12 label sets first too, so its
 * loop measures the lookup of an existing series by values, as the other
 * harnesses do. Loops are timed in the process's CPU time (compare.h).
 * Single-threaded.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdatomic.h>

#include "compare.h"

#define NVALUES 1024u /* observation values, cycled; a power of two */
#define NCOMBOS 12u

static vt_counter_series_t *counter;
static vt_histogram_series_t *histogram;
static vt_summary_series_t *summary;
static vt_counter_t *labeled;
static double values[NVALUES];
static const char *combos[NCOMBOS][4];

static volatile uint64_t plain_counter;
/* Read through a volatile pointer so the compiler cannot see its target. */
static volatile uint64_t *volatile plain_ptr = &plain_counter;
static _Atomic uint64_t atomic_counter;

static uint64_t plain_loop(uint64_t n) {
    volatile uint64_t *p = plain_ptr;
    uint64_t t0 = compare_cpu_ns();
    for (uint64_t i = 0; i < n; i++)
        *p = *p + 1;
    return compare_cpu_ns() - t0;
}

static uint64_t atomic_loop(uint64_t n) {
    uint64_t t0 = compare_cpu_ns();
    for (uint64_t i = 0; i < n; i++)
        atomic_fetch_add_explicit(&atomic_counter, 1, memory_order_relaxed);
    return compare_cpu_ns() - t0;
}

static void atomic_worker(uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        atomic_fetch_add_explicit(&atomic_counter, 1, memory_order_relaxed);
}

/* Calibrates on wall time; the row is the mean CPU time per thread, as
 * contended_inc's. */
static uint64_t atomic_contended_cpu;

static uint64_t atomic_contended_loop(uint64_t n) {
    double cores;
    return compare_two_threads(atomic_worker, n, &atomic_contended_cpu, &cores);
}

/* Measures loop and prints its ns per operation as row name. */
static int per_op_row(const char *name, compare_loop_fn loop, int quick) {
    uint64_t ops;
    uint64_t ns = compare_measure(loop, quick, &ops);
    if (ns == 0)
        return compare_fail(name, VT_EINVAL);
    compare_row(name, "ns/op", (double)ns / (double)ops);
    return 0;
}

int compare_ref(int quick) {
    if (per_op_row("ref_plain_inc", plain_loop, quick) ||
        per_op_row("ref_atomic_inc", atomic_loop, quick))
        return 1;
    uint64_t ops;
    if (compare_measure(atomic_contended_loop, quick, &ops) == 0)
        return compare_fail("ref_atomic_contended", VT_EINVAL);
    compare_row("ref_atomic_contended", "ns/op/thread", (double)atomic_contended_cpu / (double)ops);
    return 0;
}

static uint64_t counter_loop(uint64_t n) {
    uint64_t t0 = compare_cpu_ns();
    for (uint64_t i = 0; i < n; i++)
        vt_counter_inc(counter);
    return compare_cpu_ns() - t0;
}

int compare_counter_inc(int quick) {
    vt_registry_t *reg;
    vt_counter_t *c;
    int rc;
    if ((rc = vt_registry_create(&reg)) != 0 ||
        (rc = vt_counter_create(reg, "bench_requests_total", "Requests.", NULL, &c)) != 0 ||
        (rc = vt_counter_with(c, NULL, &counter)) != 0)
        return compare_fail("counter", rc);
    rc = per_op_row("counter_inc", counter_loop, quick);
    vt_registry_destroy(reg);
    return rc;
}

/* Log-uniform values from 1 ms to 20 s from a fixed xorshift seed, the same
 * sequence in every harness: every bucket, +Inf included, gets some. */
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

static uint64_t histogram_loop(uint64_t n) {
    uint64_t t0 = compare_cpu_ns();
    for (uint64_t i = 0; i < n; i++)
        vt_histogram_observe(histogram, values[i & (NVALUES - 1)]);
    return compare_cpu_ns() - t0;
}

int compare_histogram_observe(int quick) {
    vt_registry_t *reg;
    vt_histogram_t *h;
    int rc;
    fill_values();
    /* NULL buckets: the default 11, .005 to 10, as client_golang's DefBuckets. */
    if ((rc = vt_registry_create(&reg)) != 0 ||
        (rc = vt_histogram_create(reg, "bench_request_duration_seconds", "Latency.", NULL, NULL, 0,
                                  &h)) != 0 ||
        (rc = vt_histogram_with(h, NULL, &histogram)) != 0)
        return compare_fail("histogram", rc);
    rc = per_op_row("histogram_observe", histogram_loop, quick);
    vt_registry_destroy(reg);
    return rc;
}

static uint64_t summary_loop(uint64_t n) {
    uint64_t t0 = compare_cpu_ns();
    for (uint64_t i = 0; i < n; i++)
        vt_summary_observe(summary, values[i & (NVALUES - 1)]);
    return compare_cpu_ns() - t0;
}

/* Objectives 0.5, 0.9 and 0.99 over the default window (10 minutes in 5 age
 * buckets, as client_golang's), fed the histogram's values. */
int compare_summary_observe(int quick) {
    static const double objectives[] = {0.5, 0.9, 0.99};
    vt_registry_t *reg;
    vt_summary_t *sm;
    vt_metric_opts_t o;
    int rc;
    fill_values();
    vt_metric_opts_init(&o);
    o.name = "bench_request_duration_seconds";
    o.help = "Latency.";
    o.quantiles = objectives;
    o.quantile_count = 3;
    if ((rc = vt_registry_create(&reg)) != 0 || (rc = vt_summary_create_opts(reg, &o, &sm)) != 0 ||
        (rc = vt_summary_with(sm, NULL, &summary)) != 0)
        return compare_fail("summary", rc);
    rc = per_op_row("summary_observe", summary_loop, quick);
    vt_registry_destroy(reg);
    return rc;
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

static uint64_t labeled_loop(uint64_t n) {
    unsigned k = 0;
    uint64_t t0 = compare_cpu_ns();
    for (uint64_t i = 0; i < n; i++) {
        vt_counter_series_t *s;
        if (vt_counter_with(labeled, combos[k], &s) != 0)
            return 0;
        vt_counter_inc(s);
        if (++k == NCOMBOS)
            k = 0;
    }
    return compare_cpu_ns() - t0;
}

int compare_labeled_inc(int quick) {
    vt_registry_t *reg;
    int rc;
    fill_combos();
    if ((rc = vt_registry_create(&reg)) != 0 ||
        (rc = vt_counter_create(reg, "bench_http_requests_total", "Requests.",
                                VT_LABELS("method", "path", "code"), &labeled)) != 0)
        return compare_fail("labeled counter", rc);
    for (unsigned k = 0; k < NCOMBOS; k++) {
        vt_counter_series_t *s;
        if ((rc = vt_counter_with(labeled, combos[k], &s)) != 0)
            return compare_fail("vt_counter_with", rc);
    }
    rc = per_op_row("labeled_inc", labeled_loop, quick);
    vt_registry_destroy(reg);
    return rc;
}
