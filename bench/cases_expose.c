/* cases_expose.c - one scrape of a large registry: 10,000 counter series and
 * 1,000 histogram series (default 11 buckets), all with three labels.
 *
 * The series are spread over 10 counter and 10 histogram families, as in a
 * service with a few RED metrics, and carry non-trivial values (counters of up
 * to seven digits, histograms with 16 observations each over every bucket).
 * The main case streams into a sink that only counts bytes, so it measures
 * snapshotting and formatting; the _buf case measures vt_registry_write_buf
 * into a fresh buffer per scrape, as a caller without a streaming transport
 * would use it. The registry's self-metrics are off, so the output holds these
 * series only.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>

#include "bench.h"
#include "vitals.h"

#define FAMILIES 10u
#define COUNTERS_PER_FAMILY 1000u  /* 4 methods x 5 codes x 50 paths */
#define HISTOGRAMS_PER_FAMILY 100u /* 4 methods x 5 codes x 5 paths */
#define OBSERVATIONS 16u
#define NPATHS 50u

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
static const char *const codes[] = {"200", "201", "400", "404", "500"};
static char paths[NPATHS][32];
static vt_registry_t *reg;

static int fail(const char *what, int rc) {
    fprintf(stderr, "vitals-bench: %s: %s\n", what, vt_strerror(rc));
    return -1;
}

/* The i-th label set of a family: method, code, then path. */
static void label_set(unsigned i, const char *out[4]) {
    out[0] = methods[i % 4];
    out[1] = paths[(i / 20) % NPATHS];
    out[2] = codes[(i / 4) % 5];
    out[3] = NULL;
}

static int add_counters(unsigned fam) {
    char name[64];
    snprintf(name, sizeof name, "bench_app%u_requests_total", fam);
    vt_counter_t *c;
    int rc = vt_counter_create(reg, name, "Requests handled, by method, route and status code.",
                               VT_LABELS("method", "path", "code"), &c);
    if (rc)
        return fail("vt_counter_create", rc);
    for (unsigned i = 0; i < COUNTERS_PER_FAMILY; i++) {
        const char *v[4];
        label_set(i, v);
        vt_counter_series_t *s;
        if ((rc = vt_counter_with(c, v, &s)) != 0)
            return fail("vt_counter_with", rc);
        vt_counter_add_u64(s, 1 + (uint64_t)(i * 2654435761u + fam) % 1000003u);
    }
    return 0;
}

static int add_histograms(unsigned fam) {
    char name[64];
    snprintf(name, sizeof name, "bench_app%u_request_duration_seconds", fam);
    vt_histogram_t *h;
    int rc = vt_histogram_create(reg, name, "Request latency, by method, route and status code.",
                                 VT_LABELS("method", "path", "code"), NULL, 0, &h);
    if (rc)
        return fail("vt_histogram_create", rc);
    for (unsigned i = 0; i < HISTOGRAMS_PER_FAMILY; i++) {
        const char *v[4];
        label_set(i, v);
        vt_histogram_series_t *s;
        if ((rc = vt_histogram_with(h, v, &s)) != 0)
            return fail("vt_histogram_with", rc);
        for (unsigned k = 0; k < OBSERVATIONS; k++) {
            /* 1 ms .. 20 s, log-spaced, shifted per series. */
            double u = (double)((k * 7u + i) % OBSERVATIONS) / (OBSERVATIONS - 1);
            vt_histogram_observe(s, 0.001 * pow(20000.0, u));
        }
    }
    return 0;
}

static int setup(int quick) {
    (void)quick;
    if (reg)
        return 0;
    int rc = vt_registry_create(&reg);
    if (rc)
        return fail("vt_registry_create", rc);
    vt_registry_set_self_metrics(reg, 0);
    for (unsigned p = 0; p < NPATHS; p++)
        snprintf(paths[p], sizeof paths[p], "/api/v1/route%02u/:id", p);
    for (unsigned f = 0; f < FAMILIES; f++)
        if (add_counters(f) || add_histograms(f))
            return -1;
    return 0;
}

static int count_sink(void *user_data, const char *data, size_t len) {
    (void)data;
    *(size_t *)user_data += len;
    return 0;
}

/* out: ms per scrape, bytes per scrape, MB/s (10^6 bytes). */
static uint64_t report(uint64_t ns, uint64_t iters, size_t bytes, double *out, int with_bytes) {
    double per = (double)ns / (double)iters;
    out[0] = per / 1e6;
    if (with_bytes)
        out[1] = (double)bytes;
    out[with_bytes ? 2 : 1] = (double)bytes / per * 1e3;
    return ns;
}

static uint64_t run_sink(uint64_t iters, double *out, vt_format_t format) {
    vt_write_opts_t o;
    vt_write_opts_init(&o);
    o.format = format;
    size_t bytes = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        bytes = 0;
        int rc = vt_registry_write(reg, &o, count_sink, &bytes);
        if (rc) {
            fail("vt_registry_write", rc);
            return 0;
        }
    }
    return report(bench_now_ns() - t0, iters, bytes, out, 1);
}

static uint64_t run_text(uint64_t iters, double *out) {
    return run_sink(iters, out, VT_FORMAT_TEXT);
}

static uint64_t run_openmetrics(uint64_t iters, double *out) {
    return run_sink(iters, out, VT_FORMAT_OPENMETRICS);
}

static uint64_t run_text_buf(uint64_t iters, double *out) {
    size_t bytes = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        vt_buf_t buf = {0};
        int rc = vt_registry_write_buf(reg, NULL, &buf);
        bytes = buf.len;
        vt_buf_free(&buf);
        if (rc) {
            fail("vt_registry_write_buf", rc);
            return 0;
        }
    }
    return report(bench_now_ns() - t0, iters, bytes, out, 0);
}

static const bench_case_t cases[] = {
    {.rows = {{"expose_text", "ms/scrape", 0, BENCH_NO_TARGET, 0},
              {"expose_text_bytes", "bytes", 0, BENCH_NO_TARGET, 0},
              {"expose_text_mbps", "MB/s", 0, BENCH_AT_LEAST, 400}},
     .nrows = 3,
     .quick_iters = 1,
     .setup = setup,
     .run = run_text},
    {.rows = {{"expose_text_buf", "ms/scrape", 0, BENCH_NO_TARGET, 0},
              {"expose_text_buf_mbps", "MB/s", 0, BENCH_NO_TARGET, 0}},
     .nrows = 2,
     .quick_iters = 1,
     .setup = setup,
     .run = run_text_buf},
    {.rows = {{"expose_openmetrics", "ms/scrape", 0, BENCH_NO_TARGET, 0},
              {"expose_openmetrics_bytes", "bytes", 0, BENCH_NO_TARGET, 0},
              {"expose_openmetrics_mbps", "MB/s", 0, BENCH_NO_TARGET, 0}},
     .nrows = 3,
     .quick_iters = 1,
     .setup = setup,
     .run = run_openmetrics},
};

size_t bench_expose_cases(const bench_case_t **out_cases) {
    *out_cases = cases;
    return sizeof cases / sizeof cases[0];
}
