/* test_native_consistency.c - every scrape of a histogram with classic and
 * native buckets is one moment of it, while threads observe.
 *
 * Writers observe values from a fixed set in which each value has a native
 * bucket of its own (schema 0) and all sums are exact in a double: -1 (a
 * negative bucket), 0 (the zero bucket), 1, 2 and 4. So each decoded
 * protobuf scrape must hold exactly: sample_count == zero_count + every
 * native bucket; sample_sum == 4 * n(4) + 2 * n(2) + n(1) - n(-1); the
 * classic buckets (bounds 0.5, 1.5 and 3) equal the native counts below
 * them; and nothing goes back from one scrape to the next. The same holds
 * for vt_registry_visit(). At the end the totals are exactly what the writers
 * did. A watchdog ends the program if it hangs (a scrape spinning on a
 * writer's open bracket, say). Meant for ThreadSanitizer as much as for the
 * checks.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pb_stream.h"
#include "vitals.h"
#include "vitals/proto.h"
#include "vitals/visit.h"

#define WRITERS 3
#define SCRAPES 300
#define WATCHDOG_S 100

static const double values[] = {-1, 0, 1, 2, 4};
#define NVALUES 5
static const double bounds[] = {0.5, 1.5, 3};

static vt_histogram_series_t *hist;
static atomic_int stop, watchdog_done, batches; /* batches: of 512 observations, all writers */
static uint64_t done_by[WRITERS][NVALUES];      /* each writer's own, read after join */

static void *writer(void *arg) {
    size_t w = (size_t)(uintptr_t)arg;
    unsigned seed = (unsigned)w * 2654435761u + 7;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int i = 0; i < 512; i++) {
            seed = seed * 1103515245u + 12345u;
            size_t k = (seed >> 16) % NVALUES;
            vt_histogram_observe(hist, values[k]);
            done_by[w][k]++;
        }
        atomic_fetch_add_explicit(&batches, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *watchdog(void *arg) {
    (void)arg;
    for (int s = 0; s < WATCHDOG_S * 10 && !atomic_load(&watchdog_done); s++)
        usleep(100000);
    if (!atomic_load(&watchdog_done)) {
        fprintf(stderr, "watchdog: no end after %d s; a scrape or a writer hangs\n", WATCHDOG_S);
        _exit(2);
    }
    return NULL;
}

/* Native counts by value: [0] -1, [1] 0 (zero bucket), [2] 1, [3] 2, [4] 4.
 * Schema 0: bucket i holds (2^(i-1), 2^i], so 1 is bucket 0, 2 bucket 1, 4
 * bucket 2, and -1 is bucket 0 of the negative side. Returns 0 when a
 * bucket holds something no value could have put there. */
typedef struct by_value {
    uint64_t n[NVALUES];
} by_value_t;

static int from_side(const vt_native_bucket_t *b, size_t nb, int negative, by_value_t *out) {
    for (size_t i = 0; i < nb; i++) {
        if (negative) {
            if (b[i].index != 0)
                return 0;
            out->n[0] += b[i].count;
        } else {
            if (b[i].index < 0 || b[i].index > 2)
                return 0;
            out->n[2 + b[i].index] += b[i].count;
        }
    }
    return 1;
}

/* One side decoded from spans and deltas. */
static size_t decode_side(Io__Prometheus__Client__BucketSpan **spans, size_t nspans,
                          const int64_t *deltas, size_t ndeltas, vt_native_bucket_t *out,
                          size_t cap) {
    size_t n = 0, d = 0;
    int64_t idx = 0, count = 0;
    for (size_t k = 0; k < nspans; k++) {
        idx += spans[k]->offset;
        for (uint32_t j = 0; j < spans[k]->length && d < ndeltas; j++, idx++) {
            count += deltas[d++];
            CHECK(count >= 0);
            if (count > 0 && n < cap) {
                out[n].index = (int32_t)idx;
                out[n].count = (uint64_t)count;
                n++;
            }
        }
    }
    CHECK_INT(d, ndeltas);
    return n;
}

/* The checks every scrape must pass; *prev is the previous scrape's counts. */
static int check_moment(uint64_t count, double sum, const uint64_t *cum, size_t ncum,
                        const by_value_t *bv, by_value_t *prev) {
    int ok = 1;
    uint64_t total = 0;
    for (size_t k = 0; k < NVALUES; k++)
        total += bv->n[k];
    ok &= count == total;
    double want_sum =
        4.0 * (double)bv->n[4] + 2.0 * (double)bv->n[3] + (double)bv->n[2] - (double)bv->n[0];
    ok &= sum == want_sum;
    /* Classic: le 0.5 has -1 and 0; le 1.5 adds 1; le 3 adds 2. */
    if (ncum == 3) {
        ok &= cum[0] == bv->n[0] + bv->n[1];
        ok &= cum[1] == cum[0] + bv->n[2];
        ok &= cum[2] == cum[1] + bv->n[3];
    } else
        ok = 0;
    for (size_t k = 0; k < NVALUES; k++) {
        ok &= bv->n[k] >= prev->n[k];
        prev->n[k] = bv->n[k];
    }
    if (!ok)
        fprintf(stderr,
                "inconsistent scrape: count %llu, sum %.17g, buckets %llu %llu %llu %llu %llu\n",
                (unsigned long long)count, sum, (unsigned long long)bv->n[0],
                (unsigned long long)bv->n[1], (unsigned long long)bv->n[2],
                (unsigned long long)bv->n[3], (unsigned long long)bv->n[4]);
    return ok;
}

static by_value_t prev_pb, prev_visit;
static int bad_pb, bad_visit;

static void scrape_protobuf(vt_registry_t *reg) {
    pb_out_t out;
    pb_stream_t st;
    CHECK_INT(pb_scrape(reg, &out, &st), 0);
    const pb_family_t *f = pb_find(&st, "mixed_seconds");
    CHECK(f && f->n_metric == 1 && f->metric[0]->histogram);
    if (f && f->n_metric == 1 && f->metric[0]->histogram) {
        const Io__Prometheus__Client__Histogram *h = f->metric[0]->histogram;
        vt_native_bucket_t pos[8], neg[8];
        size_t np = decode_side(h->positive_span, h->n_positive_span, h->positive_delta,
                                h->n_positive_delta, pos, 8);
        size_t nn = decode_side(h->negative_span, h->n_negative_span, h->negative_delta,
                                h->n_negative_delta, neg, 8);
        by_value_t bv = {{0}};
        bv.n[1] = h->zero_count;
        int shape = from_side(pos, np, 0, &bv) && from_side(neg, nn, 1, &bv);
        uint64_t cum[3] = {0};
        size_t ncum = h->n_bucket < 3 ? h->n_bucket : 3;
        for (size_t b = 0; b < ncum; b++)
            cum[b] = h->bucket[b]->cumulative_count;
        if (!shape || !check_moment(h->sample_count, h->sample_sum, cum, ncum, &bv, &prev_pb))
            bad_pb++;
    }
    pb_stream_free(&st);
    pb_out_free(&out);
}

static int visit_one(const vt_sample_family_t *f, void *ud) {
    (void)ud;
    if (strcmp(f->name, "mixed_seconds") != 0 || f->series_count != 1)
        return 0;
    const vt_sample_series_t *s = &f->series[0];
    by_value_t bv = {{0}};
    bv.n[1] = s->native_zero_count;
    int shape = s->has_native && from_side(s->native_positive, s->native_positive_count, 0, &bv) &&
                from_side(s->native_negative, s->native_negative_count, 1, &bv);
    if (!shape || !check_moment(s->count, s->sum, s->buckets, 3, &bv, &prev_visit) ||
        s->buckets[3] != s->count)
        bad_visit++;
    return 0;
}

static void test_every_scrape_is_one_moment(void) {
    vt_registry_t *reg;
    CHECK_INT(vt_registry_create(&reg), 0);
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = "mixed_seconds";
    o.help = "Classic and native buckets.";
    o.buckets = bounds;
    o.bucket_count = 3;
    o.native_bucket_factor = 2; /* schema 0 */
    vt_histogram_t *h;
    CHECK_INT(vt_histogram_create_opts(reg, &o, &h), 0);
    CHECK_INT(vt_histogram_with(h, NULL, &hist), 0);

    pthread_t wd, th[WRITERS];
    CHECK_INT(pthread_create(&wd, NULL, watchdog, NULL), 0);
    for (size_t w = 0; w < WRITERS; w++)
        CHECK_INT(pthread_create(&th[w], NULL, writer, (void *)(uintptr_t)w), 0);
    /* Scrape while the writers write: wait until they are under way. */
    while (atomic_load(&batches) < 2 * WRITERS)
        usleep(1000);
    for (int i = 0; i < SCRAPES; i++) {
        scrape_protobuf(reg);
        CHECK_INT(vt_registry_visit(reg, visit_one, NULL), 0);
    }
    atomic_store(&stop, 1);
    for (size_t w = 0; w < WRITERS; w++)
        pthread_join(th[w], NULL);
    CHECK_INT(bad_pb, 0);
    CHECK_INT(bad_visit, 0);

    /* Exact totals once the writers are done (and their threads gone: the
     * cells of exited threads are folded, not lost). */
    by_value_t want = {{0}};
    uint64_t total = 0;
    for (size_t w = 0; w < WRITERS; w++)
        for (size_t k = 0; k < NVALUES; k++) {
            want.n[k] += done_by[w][k];
            total += done_by[w][k];
        }
    CHECK(total > 0);
    scrape_protobuf(reg);
    CHECK_INT(bad_pb, 0);
    for (size_t k = 0; k < NVALUES; k++)
        CHECK_INT(prev_pb.n[k], want.n[k]);
    CHECK_INT(vt_registry_visit(reg, visit_one, NULL), 0);
    CHECK_INT(bad_visit, 0);
    for (size_t k = 0; k < NVALUES; k++)
        CHECK_INT(prev_visit.n[k], want.n[k]);
    uint64_t count;
    double sum;
    vt_histogram_get(hist, &count, &sum);
    CHECK_INT(count, total);

    atomic_store(&watchdog_done, 1);
    pthread_join(wd, NULL);
    vt_registry_destroy(reg);
}

int main(void) {
    RUN(test_every_scrape_is_one_moment);
    TEST_EXIT();
}
