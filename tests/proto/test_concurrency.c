/* test_concurrency.c - protobuf scrapes while other threads observe,
 * increment and scrape in text: every scrape decodes, counters never go
 * back, a classic histogram's buckets are cumulative and end at most at its
 * count, and a native histogram's count is exactly its zero bucket plus its
 * buckets (Prometheus rejects one where they differ) and never goes back;
 * once the writers stop, it is the histogram's count. Meant for
 * ThreadSanitizer as much as for the checks.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "harness.h"
#include "pb_stream.h"
#include "vitals.h"
#include "vitals/proto.h"

#define WRITERS 2
#define SCRAPES 200

static vt_counter_series_t *counter;
static vt_histogram_series_t *classic, *native;
static atomic_int stop;

static void *writer(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
    while (!atomic_load(&stop)) {
        for (int i = 0; i < 256; i++) {
            seed = seed * 1103515245u + 12345u;
            double v = (double)(seed >> 8 & 0xffff) / 4096.0 - 2.0; /* -2 .. 14 */
            vt_counter_inc(counter);
            vt_histogram_observe(classic, v < 0 ? -v : v);
            vt_histogram_observe(native, v);
        }
    }
    return NULL;
}

static int null_sink(void *ud, const char *data, size_t len) {
    (void)ud;
    (void)data;
    (void)len;
    return 0;
}

static void *text_scraper(void *arg) {
    vt_registry_t *reg = arg;
    while (!atomic_load(&stop))
        vt_registry_write(reg, NULL, null_sink, NULL);
    return NULL;
}

/* Sum of the counts of one side of a native histogram. */
static uint64_t side_total(const int64_t *deltas, size_t n) {
    uint64_t total = 0;
    int64_t count = 0;
    for (size_t i = 0; i < n; i++) {
        count += deltas[i];
        CHECK(count >= 0);
        total += (uint64_t)count;
    }
    return total;
}

/* A native histogram's zero bucket and buckets, summed. */
static uint64_t native_total(const Io__Prometheus__Client__Histogram *h) {
    return h->zero_count + side_total(h->positive_delta, h->n_positive_delta) +
           side_total(h->negative_delta, h->n_negative_delta);
}

static void test_scrapes_during_writes(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_counter_t *c;
    CHECK_INT(vt_counter_create(reg, "ops", "Operations.", NULL, &c), 0);
    CHECK_INT(vt_counter_with(c, NULL, &counter), 0);
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create(reg, "sizes", "Sizes.", NULL, NULL, 0, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &classic), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "spread";
    o.help = "Native only.";
    o.native_bucket_factor = 1.1;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &native), 0);

    pthread_t w[WRITERS], t;
    for (uintptr_t i = 0; i < WRITERS; i++)
        CHECK_INT(pthread_create(&w[i], NULL, writer, (void *)i), 0);
    CHECK_INT(pthread_create(&t, NULL, text_scraper, reg), 0);

    double last_ops = 0;
    uint64_t last_native = 0;
    for (int k = 0; k < SCRAPES; k++) {
        pb_out_t out;
        pb_stream_t s;
        CHECK_INT(pb_scrape(reg, &out, &s), 0);
        const pb_family_t *f = pb_find(&s, "ops_total");
        CHECK(f && f->n_metric == 1);
        if (f && f->n_metric == 1) {
            CHECK(f->metric[0]->counter->value >= last_ops);
            last_ops = f->metric[0]->counter->value;
        }
        f = pb_find(&s, "sizes");
        CHECK(f && f->n_metric == 1);
        if (f && f->n_metric == 1) {
            const Io__Prometheus__Client__Histogram *hh = f->metric[0]->histogram;
            uint64_t prev = 0;
            for (size_t b = 0; b < hh->n_bucket; b++) {
                CHECK(hh->bucket[b]->cumulative_count >= prev);
                prev = hh->bucket[b]->cumulative_count;
            }
            CHECK(prev <= hh->sample_count);
        }
        f = pb_find(&s, "spread");
        CHECK(f && f->n_metric == 1);
        if (f && f->n_metric == 1) {
            const Io__Prometheus__Client__Histogram *hh = f->metric[0]->histogram;
            CHECK_INT(native_total(hh), hh->sample_count);
            CHECK(hh->sample_count >= last_native);
            last_native = hh->sample_count;
            CHECK_INT(hh->n_bucket, 0);
        }
        pb_stream_free(&s);
        pb_out_free(&out);
        /* Let the writers run between scrapes. */
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    double during = last_ops;
    atomic_store(&stop, 1);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    pthread_join(t, NULL);
    CHECK(during > 0);

    /* Quiet now: the last scrape shows every increment and observation. */
    pb_out_t out;
    pb_stream_t s;
    CHECK_INT(pb_scrape(reg, &out, &s), 0);
    const pb_family_t *f = pb_find(&s, "ops_total");
    CHECK(f && f->n_metric == 1);
    if (f && f->n_metric == 1)
        CHECK_DBL(f->metric[0]->counter->value, vt_counter_get(counter));
    f = pb_find(&s, "spread");
    CHECK(f && f->n_metric == 1);
    if (f && f->n_metric == 1) {
        const Io__Prometheus__Client__Histogram *hh = f->metric[0]->histogram;
        CHECK_INT(native_total(hh), hh->sample_count);
        uint64_t count;
        double sum;
        vt_histogram_get(native, &count, &sum);
        CHECK_INT(hh->sample_count, count);
    }
    pb_stream_free(&s);
    pb_out_free(&out);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_scrapes_during_writes);
    TEST_EXIT();
}
