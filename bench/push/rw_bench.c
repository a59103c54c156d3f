/* rw_bench.c - how many samples one core encodes and snappy-compresses into
 * Prometheus remote-write requests per second, beside the text writer on the
 * same registry in the same run.
 *
 * The registry is vitals-bench's scrape registry: 10,000 counter series and
 * 1,000 histogram series (11 buckets), three labels each. CPU time of this
 * thread, medians of interleaved rounds.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "push_internal.h"
#include "vitals.h"

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_sink(void *ud, const char *d, size_t n) {
    (void)d;
    *(size_t *)ud += n;
    return 0;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 9;
    if (rounds < 1 || rounds > 99)
        rounds = 9;
    vt_registry_t *reg;
    if (vt_registry_create(&reg) != 0)
        return 1;
    vt_registry_set_self_metrics(reg, 0);
    char name[64], a[32], b[32];
    for (int f = 0; f < 10; f++) {
        vt_counter_t *c;
        snprintf(name, sizeof name, "bench_requests_%d_total", f);
        vt_metric_opts_t o;
        vt_metric_opts_init(&o);
        o.name = name;
        o.label_names = VT_LABELS("method", "route", "code");
        o.max_series = 2000;
        if (vt_counter_create_opts(reg, &o, &c) != 0)
            return 1;
        for (int i = 0; i < 1000; i++) {
            vt_counter_series_t *s;
            snprintf(a, sizeof a, "/r/%d", i);
            snprintf(b, sizeof b, "%d", 200 + i % 5);
            if (vt_counter_with(c, VT_VALUES("GET", a, b), &s) != 0)
                return 1;
            vt_counter_add_u64(s, (uint64_t)i * 7u);
        }
        vt_histogram_t *h;
        snprintf(name, sizeof name, "bench_latency_%d_seconds", f);
        if (vt_histogram_create(reg, name, "h", VT_LABELS("method", "route", "code"), NULL, 0,
                                &h) != 0)
            return 1;
        for (int i = 0; i < 100; i++) {
            vt_histogram_series_t *s;
            snprintf(a, sizeof a, "/r/%d", i);
            if (vt_histogram_with(h, VT_VALUES("GET", a, "200"), &s) != 0)
                return 1;
            for (int k = 0; k < 16; k++)
                vt_histogram_observe(s, 0.001 * (1 << (k % 12)));
        }
    }
    double enc[99], txt[99];
    uint64_t samples = 0;
    size_t body = 0, text_bytes = 0;
    vt__gbuf_t out = {0};
    for (int r = 0; r < rounds; r++) {
        int n = 0;
        double t0 = cpu_s();
        do {
            if (vt__rw_encode(reg, NULL, 0, 0, 1700000000000, &out, &samples) != 0)
                return 1;
            n++;
        } while (cpu_s() - t0 < 0.2);
        enc[r] = (double)samples * n / (cpu_s() - t0);
        body = out.len;
        n = 0;
        t0 = cpu_s();
        do {
            text_bytes = 0;
            vt_registry_write(reg, NULL, count_sink, &text_bytes);
            n++;
        } while (cpu_s() - t0 < 0.2);
        txt[r] = (double)samples * n / (cpu_s() - t0);
    }
    qsort(enc, (size_t)rounds, sizeof enc[0], cmp);
    qsort(txt, (size_t)rounds, sizeof txt[0], cmp);
    printf("samples per request      %llu\n", (unsigned long long)samples);
    printf("compressed request bytes %zu\n", body);
    printf("text exposition bytes    %zu\n", text_bytes);
    printf("remote write encode+snappy: %.2f M samples/s of CPU (min %.2f, max %.2f)\n",
           enc[rounds / 2] / 1e6, enc[0] / 1e6, enc[rounds - 1] / 1e6);
    printf("text writer, same samples:  %.2f M samples/s of CPU (min %.2f, max %.2f)\n",
           txt[rounds / 2] / 1e6, txt[0] / 1e6, txt[rounds - 1] / 1e6);
    free(out.data);
    vt_registry_destroy(reg);
    return 0;
}
