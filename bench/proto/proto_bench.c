/* proto_bench.c - vitals-bench-proto: the delimited protobuf writer beside
 * the text writers, on the registry vitals-bench scrapes (10,000 counter
 * series and 1,000 histogram series with 11 buckets, three labels each,
 * self-metrics off).
 *
 * Every case streams one whole scrape into a sink that only counts bytes.
 * Cases run round by round, interleaved, so that machine noise hits each
 * alike; each round times enough scrapes to last at least 50 ms, and the
 * table shows the median over rounds. "visit only" is vt_registry_visit() with
 * a callback that does nothing: the part of the protobuf time spent taking the
 * snapshot as structures. MB/s counts 10^6 bytes of output per second, so the
 * formats' figures differ by their sizes too: compare ms/scrape for cost.
 * "protobuf, native" adds native buckets (schema 3) to every histogram.
 *
 * Usage: vitals-bench-proto [--quick]
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vitals.h"
#include "vitals/proto.h"
#include "vitals/visit.h"

#define FAMILIES 10u
#define COUNTERS_PER_FAMILY 1000u
#define HISTOGRAMS_PER_FAMILY 100u
#define OBSERVATIONS 16u
#define NPATHS 50u
#define MAX_ROUNDS 15
#define MIN_ROUND_NS 50000000ull

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
static const char *const codes[] = {"200", "201", "400", "404", "500"};
static char paths[NPATHS][32];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc) {
    fprintf(stderr, "vitals-bench-proto: %s: %s\n", what, vt_strerror(rc));
    exit(1);
}

static void label_set(unsigned i, const char *out[4]) {
    out[0] = methods[i % 4];
    out[1] = paths[(i / 20) % NPATHS];
    out[2] = codes[(i / 4) % 5];
    out[3] = NULL;
}

/* The registry of vitals-bench's expose cases; native adds native buckets. */
static vt_registry_t *build(int native) {
    vt_registry_t *reg;
    int rc;
    char name[64];
    if ((rc = vt_registry_create(&reg)) != 0)
        die("vt_registry_create", rc);
    vt_registry_set_self_metrics(reg, 0);
    for (unsigned f = 0; f < FAMILIES; f++) {
        vt_counter_t *c;
        snprintf(name, sizeof name, "bench_app%u_requests_total", f);
        if ((rc =
                 vt_counter_create(reg, name, "Requests handled, by method, route and status code.",
                                   VT_LABELS("method", "path", "code"), &c)) != 0)
            die("vt_counter_create", rc);
        for (unsigned i = 0; i < COUNTERS_PER_FAMILY; i++) {
            const char *v[4];
            vt_counter_series_t *s;
            label_set(i, v);
            if ((rc = vt_counter_with(c, v, &s)) != 0)
                die("vt_counter_with", rc);
            vt_counter_add_u64(s, 1 + (uint64_t)(i * 2654435761u + f) % 1000003u);
        }
        vt_metric_opts_t o;
        vt_metric_opts_init(&o);
        snprintf(name, sizeof name, "bench_app%u_request_duration_seconds", f);
        o.name = name;
        o.help = "Request latency, by method, route and status code.";
        o.label_names = VT_LABELS("method", "path", "code");
        if (native) {
            size_t n;
            o.buckets = vt_buckets_default(&n);
            o.bucket_count = n;
            o.native_bucket_factor = 1.1;
        }
        vt_histogram_t *h;
        if ((rc = vt_histogram_create_opts(reg, &o, &h)) != 0)
            die("vt_histogram_create_opts", rc);
        for (unsigned i = 0; i < HISTOGRAMS_PER_FAMILY; i++) {
            const char *v[4];
            vt_histogram_series_t *s;
            label_set(i, v);
            if ((rc = vt_histogram_with(h, v, &s)) != 0)
                die("vt_histogram_with", rc);
            for (unsigned k = 0; k < OBSERVATIONS; k++) {
                double u = (double)((k * 7u + i) % OBSERVATIONS) / (OBSERVATIONS - 1);
                vt_histogram_observe(s, 0.001 * pow(20000.0, u));
            }
        }
    }
    return reg;
}

static int count_sink(void *user_data, const char *data, size_t len) {
    (void)data;
    *(size_t *)user_data += len;
    return 0;
}

static int visit_nothing(const vt_sample_family_t *f, void *user_data) {
    (void)f;
    (void)user_data;
    return 0;
}

typedef enum kind { K_TEXT, K_OPENMETRICS, K_PROTO, K_PROTO_NATIVE, K_VISIT, K_COUNT } kind_t;

static const char *const names[K_COUNT] = {"text 0.0.4", "OpenMetrics 1.0", "protobuf",
                                           "protobuf, native", "visit only"};

/* One scrape of reg in kind's format; returns its bytes. */
static size_t scrape(vt_registry_t *reg, kind_t k) {
    size_t bytes = 0;
    int rc;
    vt_write_opts_t o;
    vt_write_opts_init(&o);
    switch (k) {
    case K_TEXT:
    case K_OPENMETRICS:
        o.format = k == K_TEXT ? VT_FORMAT_TEXT : VT_FORMAT_OPENMETRICS;
        rc = vt_registry_write(reg, &o, count_sink, &bytes);
        break;
    case K_PROTO:
    case K_PROTO_NATIVE:
        rc = vt_proto_write(reg, count_sink, &bytes);
        break;
    default:
        rc = vt_registry_visit(reg, visit_nothing, NULL);
        break;
    }
    if (rc != 0)
        die(names[k], rc);
    return bytes;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int rounds = quick ? 1 : MAX_ROUNDS;
    for (unsigned p = 0; p < NPATHS; p++)
        snprintf(paths[p], sizeof paths[p], "/api/v1/route%02u/:id", p);
    vt_registry_t *plain = build(0), *native = build(1);

    double ms[K_COUNT][MAX_ROUNDS];
    size_t bytes[K_COUNT] = {0};
    uint64_t iters[K_COUNT];
    for (int k = 0; k < K_COUNT; k++) {
        vt_registry_t *reg = k == K_PROTO_NATIVE ? native : plain;
        /* Warm up and calibrate: enough scrapes for MIN_ROUND_NS. */
        uint64_t t0 = now_ns();
        bytes[k] = scrape(reg, (kind_t)k);
        uint64_t one = now_ns() - t0;
        iters[k] = quick ? 1 : MIN_ROUND_NS / (one ? one : 1) + 1;
    }
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < K_COUNT; k++) {
            vt_registry_t *reg = k == K_PROTO_NATIVE ? native : plain;
            uint64_t t0 = now_ns();
            for (uint64_t i = 0; i < iters[k]; i++)
                scrape(reg, (kind_t)k);
            ms[k][r] = (double)(now_ns() - t0) / (double)iters[k] / 1e6;
        }
    }

    printf("%-18s %12s %12s %10s %12s\n", "format", "ms/scrape", "bytes", "MB/s", "vs text");
    double text_ms = 0;
    for (int k = 0; k < K_COUNT; k++) {
        qsort(ms[k], (size_t)rounds, sizeof(double), cmp_double);
        double med = ms[k][rounds / 2];
        if (k == K_TEXT)
            text_ms = med;
        double mbps = bytes[k] ? (double)bytes[k] / (med / 1e3) / 1e6 : 0;
        printf("%-18s %12.3f %12zu %10.1f %11.2fx\n", names[k], med, bytes[k], mbps, med / text_ms);
    }
    vt_registry_destroy(plain);
    vt_registry_destroy(native);
    return 0;
}
