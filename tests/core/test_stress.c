/* test_stress.c - the core under concurrent writers, binders, scrapes and churn; meant for TSan.
 *
 * For VT_STRESS_MS (default 3000) milliseconds:
 * - six worker slots each run a thread that increments a bound counter,
 *   looks a counter up by its values on every iteration (the lock-free path),
 *   observes a histogram (bound, and every eighth time looked up) and a
 *   summary, and binds brand-new label sets while others look up and the hash
 *   table grows. Each worker lives a few hundred milliseconds and is replaced
 *   by a new thread in the same slot, so shards are folded into the retired
 *   totals while scrapes run;
 * - one thread scrapes without pause, in text and OpenMetrics (with and without
 *   _created), and checks every scrape: each histogram's buckets are
 *   cumulative, its _count equals its +Inf bucket, and, since every bucket
 *   receives one fixed dyadic value, its _sum equals the sum over buckets of
 *   count times value exactly, which holds only if buckets and sum come from
 *   one snapshot of each shard; each summary's _sum is 2 x _count; the slot
 *   series never go backwards between scrapes; and every scrape passes the
 *   strict parser (vt_parse with VT_PARSE_STRICT: the format's syntax and
 *   its validation rules) in its format;
 * - one thread removes and re-adds unrelated series, clears their family,
 *   creates, registers, unregisters and destroys an unrelated histogram and
 *   counter family (so freed cells are zeroed and reused under the writers:
 *   each new series must start at zero) and adds and removes a collector.
 * After every thread is joined, the totals read through
 * vt_registry_get_sample_value() equal exactly what the workers counted,
 * including every exited thread's counts, and every fresh series holds exactly
 * its one increment. A watchdog thread fails the program if it does not end
 * within VT_STRESS_WATCHDOG_S (default 100) seconds, so a deadlock fails
 * instead of hanging.
 *
 * Threads other than main never use the harness macros (they are not
 * thread-safe): they report through fail(), an atomic count.
 *
 * SPDX-License-Identifier: MIT
 */
/* vt-test: labels=concurrency timeout=120 libs=vitals_parse */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "parse/parse.h"
#include "vitals.h"

#define NSLOTS 6
#define FRESH_PER_WORKER 40
#define MAX_FRESH 20000
#define BATCH 256

/* The four observed values: dyadic, so every sum is exact, and each falls in
 * its own default bucket (0.01, 0.5, 5 and +Inf: indexes 1, 6, 9 and 11). */
static const double obs_value[4] = {0.0078125, 0.5, 4, 64};
static const int obs_bucket[4] = {1, 6, 9, 11};
#define NBUCKETS 12 /* the 11 default bounds and +Inf */
#define SUMMARY_VALUE 2.0

static vt_registry_t *reg;
static vt_counter_t *ops, *fresh, *churn;
static vt_histogram_t *lat;
static vt_summary_t *sizes;

static atomic_int stop_flag;
static atomic_int failures;
static atomic_int watchdog_done;
static _Atomic(const char *) phase = "setup";

#define fail(...)                                                                                  \
    do {                                                                                           \
        if (atomic_fetch_add(&failures, 1) < 20)                                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static long env_long(const char *name, long dflt) {
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

/* ---- workers ---- */

typedef struct worker {
    pthread_t th;
    int slot;
    unsigned gen;
    int64_t end_ns;
    atomic_int finished;
    /* what the worker did, read by main after the join */
    uint64_t bound, looked, lat[4], size_count, nfresh;
    unsigned fresh_ids[FRESH_PER_WORKER];
} worker_t;

static void *worker_main(void *arg) {
    worker_t *w = arg;
    char slot[16];
    snprintf(slot, sizeof slot, "%d", w->slot);
    vt_counter_series_t *b, *l;
    vt_histogram_series_t *h, *hl;
    vt_summary_series_t *sm;
    if (vt_counter_with(ops, VT_VALUES(slot, "bound"), &b) != 0 ||
        vt_histogram_with(lat, VT_VALUES(slot), &h) != 0 ||
        vt_summary_with(sizes, VT_VALUES(slot), &sm) != 0) {
        fail("worker %d: bind failed\n", w->slot);
        atomic_store(&w->finished, 1);
        return NULL;
    }
    uint64_t rng = UINT64_C(0x9E3779B97F4A7C15) ^ ((uint64_t)w->gen << 8 | (uint64_t)w->slot);
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed) && now_ns() < w->end_ns) {
        for (int k = 0; k < BATCH; k++) {
            vt_counter_inc(b);
            w->bound++;
            if (vt_counter_with(ops, VT_VALUES(slot, "looked_up"), &l) != 0) {
                fail("worker %d: lookup failed\n", w->slot);
                break;
            }
            vt_counter_inc(l);
            w->looked++;
            int v = (int)(rng_next(&rng) & 3);
            if ((k & 7) == 0) {
                if (vt_histogram_with(lat, VT_VALUES(slot), &hl) != 0 || hl != h) {
                    fail("worker %d: histogram lookup gave another series\n", w->slot);
                    break;
                }
                vt_histogram_observe(hl, obs_value[v]);
            } else
                vt_histogram_observe(h, obs_value[v]);
            w->lat[v]++;
            if ((k & 3) == 0) {
                vt_summary_observe(sm, SUMMARY_VALUE);
                w->size_count++;
            }
        }
        if (w->nfresh < FRESH_PER_WORKER) {
            /* A label set nobody bound before: insertion under the lookups of others. */
            char id[32];
            unsigned fid = w->gen * 1000u + (unsigned)w->nfresh;
            snprintf(id, sizeof id, "%u", fid);
            vt_counter_series_t *f;
            if (vt_counter_with(fresh, VT_VALUES(slot, id), &f) != 0) {
                fail("worker %d: fresh bind failed\n", w->slot);
            } else {
                vt_counter_inc(f);
                w->fresh_ids[w->nfresh++] = fid;
            }
        }
    }
    atomic_store(&w->finished, 1);
    return NULL;
}

/* ---- scraper ---- */

typedef struct series_acc {
    char key[128]; /* family name + labels without le */
    uint64_t buckets[NBUCKETS];
    int nbuckets;
    int has_sum, has_count, histogram;
    double sum;
    uint64_t count;
} series_acc_t;

#define MAX_ACC 64

typedef struct scrape_state {
    uint64_t last_ops[NSLOTS][2]; /* bound, looked_up */
    uint64_t last_lat[NSLOTS];
    int text, om;
    int parsed;            /* scrapes the strict parser accepted */
    size_t parsed_samples; /* samples in them */
} scrape_state_t;

static series_acc_t *acc_get(series_acc_t *acc, int *n, const char *key, size_t kl) {
    for (int i = 0; i < *n; i++)
        if (strlen(acc[i].key) == kl && memcmp(acc[i].key, key, kl) == 0)
            return &acc[i];
    if (*n == MAX_ACC || kl >= sizeof acc[0].key)
        return NULL;
    series_acc_t *a = &acc[(*n)++];
    memset(a, 0, sizeof *a);
    memcpy(a->key, key, kl);
    return a;
}

static int slot_of(const char *labels, size_t len) {
    const char *p = memmem(labels, len, "worker=\"", 8);
    if (!p)
        return -1;
    int s = p[8] - '0';
    return s >= 0 && s < NSLOTS && p[9] == '"' ? s : -1;
}

static uint64_t parse_u64(const char *v, const char *what) {
    char *end;
    double d = strtod(v, &end);
    if (end == v || d < 0 || d != (double)(uint64_t)d)
        fail("scrape: %s: not a count: %.40s\n", what, v);
    return (uint64_t)d;
}

/* The strict parser accepts the scrape, or the test fails with its message
 * and the offending line. */
static void strict_parse(const char *text, size_t len, vt_format_t format, scrape_state_t *st) {
    vt_parse_opts_t po = {format, VT_PARSE_STRICT};
    vt_doc_t *doc = NULL;
    vt_parse_error_t err;
    int rc = vt_parse(text, len, &po, &doc, &err);
    if (rc != 0) {
        const char *line = text;
        for (unsigned l = 1; l < err.line && line; l++) {
            line = memchr(line, '\n', len - (size_t)(line - text));
            line = line ? line + 1 : NULL;
        }
        fail("scrape: the strict %s parser refused it: %s: %.*s\n",
             format == VT_FORMAT_OPENMETRICS ? "OpenMetrics" : "text", err.message,
             line ? (int)strcspn(line, "\n") : 0, line ? line : "");
    } else {
        st->parsed++;
        st->parsed_samples += doc->sample_count;
    }
    vt_doc_free(doc);
}

/* Check one scrape; see the file comment for what must hold. */
static void check_scrape(const char *text, int om, scrape_state_t *st) {
    series_acc_t acc[MAX_ACC];
    int nacc = 0;
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        const char *next = line + n + (line[n] == '\n');
        if (line[0] == '#' || n == 0) {
            line = next;
            continue;
        }
        size_t name_len = strcspn(line, "{ ");
        const char *lb = line[name_len] == '{' ? line + name_len + 1 : NULL;
        const char *value = line + n;
        while (value > line && value[-1] != ' ')
            value--;
        size_t labels_len = lb ? (size_t)(value - 2 - lb) : 0; /* up to the closing brace */
        int is_bucket = name_len > 7 && memcmp(line + name_len - 7, "_bucket", 7) == 0;
        int is_sum = name_len > 4 && memcmp(line + name_len - 4, "_sum", 4) == 0;
        int is_count = name_len > 6 && memcmp(line + name_len - 6, "_count", 6) == 0;
        if (strncmp(line, "stress_ops_total{", 17) == 0) {
            int s = slot_of(lb, labels_len);
            int k = memmem(lb, labels_len, "kind=\"bound\"", 12)       ? 0
                    : memmem(lb, labels_len, "kind=\"looked_up\"", 16) ? 1
                                                                       : -1;
            uint64_t v = parse_u64(value, "stress_ops_total");
            if (s < 0 || k < 0)
                fail("scrape: unexpected series %.*s\n", (int)n, line);
            else if (v < st->last_ops[s][k])
                fail("scrape: %.*s went back from %" PRIu64 "\n", (int)n, line, st->last_ops[s][k]);
            else
                st->last_ops[s][k] = v;
        }
        if (is_bucket || is_sum || is_count) {
            size_t base = name_len - (is_bucket ? 7 : is_sum ? 4 : 6);
            char key[256];
            size_t kl = labels_len;
            if (is_bucket) {
                const char *le = lb ? memmem(lb, labels_len, "le=\"", 4) : NULL;
                if (!le) {
                    fail("scrape: bucket without le: %.*s\n", (int)n, line);
                    line = next;
                    continue;
                }
                kl = (size_t)(le - lb);
                if (kl > 0)
                    kl--; /* the comma before le */
            }
            int klen =
                snprintf(key, sizeof key, "%.*s{%.*s}", (int)base, line, (int)kl, lb ? lb : "");
            series_acc_t *a = acc_get(acc, &nacc, key, (size_t)klen);
            if (!a) {
                fail("scrape: too many series\n");
                line = next;
                continue;
            }
            if (is_bucket) {
                a->histogram = 1;
                uint64_t v = parse_u64(value, "bucket");
                if (a->nbuckets == NBUCKETS)
                    fail("scrape: %s: more than %d buckets\n", key, NBUCKETS);
                else {
                    if (a->nbuckets > 0 && v < a->buckets[a->nbuckets - 1])
                        fail("scrape: %s: buckets not cumulative at %d: %" PRIu64 " < %" PRIu64
                             "\n",
                             key, a->nbuckets, v, a->buckets[a->nbuckets - 1]);
                    a->buckets[a->nbuckets++] = v;
                }
                if (a->nbuckets == NBUCKETS && strncmp(value - 8, "\"+Inf\"} ", 8) != 0)
                    fail("scrape: %s: last bucket is not +Inf\n", key);
            } else if (is_sum) {
                a->has_sum = 1;
                a->sum = strtod(value, NULL);
            } else {
                a->has_count = 1;
                a->count = parse_u64(value, "count");
            }
        }
        line = next;
    }
    for (int i = 0; i < nacc; i++) {
        series_acc_t *a = &acc[i];
        if (!a->has_sum || !a->has_count) {
            fail("scrape: %s: _sum or _count missing\n", a->key);
            continue;
        }
        if (!a->histogram) { /* a summary */
            if (a->sum != SUMMARY_VALUE * (double)a->count)
                fail("scrape: %s: summary _sum %.17g with _count %" PRIu64 "\n", a->key, a->sum,
                     a->count);
            continue;
        }
        if (a->nbuckets != NBUCKETS) {
            fail("scrape: %s: %d buckets\n", a->key, a->nbuckets);
            continue;
        }
        if (a->count != a->buckets[NBUCKETS - 1])
            fail("scrape: %s: _count %" PRIu64 " but +Inf bucket %" PRIu64 "\n", a->key, a->count,
                 a->buckets[NBUCKETS - 1]);
        double want = 0;
        for (int b = 0; b < NBUCKETS; b++) {
            uint64_t in = a->buckets[b] - (b ? a->buckets[b - 1] : 0);
            int known = -1;
            for (int v = 0; v < 4; v++)
                if (obs_bucket[v] == b)
                    known = v;
            if (known < 0 && in != 0)
                fail("scrape: %s: %" PRIu64 " observations in bucket %d, which gets none\n", a->key,
                     in, b);
            if (known >= 0)
                want += obs_value[known] * (double)in;
        }
        if (a->sum != want)
            fail("scrape: %s: _sum %.17g but the buckets say %.17g (torn snapshot)\n", a->key,
                 a->sum, want);
        int s = strncmp(a->key, "stress_latency_seconds{", 23) == 0
                    ? slot_of(a->key, strlen(a->key))
                    : -1;
        if (s >= 0) {
            if (a->count < st->last_lat[s])
                fail("scrape: %s: _count went back from %" PRIu64 " to %" PRIu64 "\n", a->key,
                     st->last_lat[s], a->count);
            st->last_lat[s] = a->count;
        }
    }
    if (om)
        st->om++;
    else
        st->text++;
}

static scrape_state_t scrape_result;

static void *scraper_main(void *arg) {
    (void)arg;
    scrape_state_t *st = &scrape_result;
    vt_buf_t buf = {0};
    for (unsigned i = 0; !atomic_load(&stop_flag); i++) {
        vt_write_opts_t o;
        vt_write_opts_init(&o);
        o.format = i % 2 ? VT_FORMAT_OPENMETRICS : VT_FORMAT_TEXT;
        o.created = (i % 4) == 3;
        buf.len = 0;
        int rc = vt_registry_write_buf(reg, &o, &buf);
        if (rc != 0) {
            fail("scrape: vt_registry_write_buf: %s\n", vt_strerror(rc));
            continue;
        }
        check_scrape(buf.data ? buf.data : "", o.format == VT_FORMAT_OPENMETRICS, st);
        strict_parse(buf.data ? buf.data : "", buf.len, o.format, st);
        /* The sample matcher runs a scrape of its own. */
        double v;
        rc = vt_registry_get_sample_value(reg, "stress_ops_total", VT_LABELS("worker", "kind"),
                                          VT_VALUES("0", "bound"), &v);
        if (rc != 0 && rc != VT_ENOTFOUND)
            fail("scrape: vt_registry_get_sample_value: %s\n", vt_strerror(rc));
        if (rc == 0 && v < (double)st->last_ops[0][0])
            fail("scrape: get_sample_value went back: %.17g < %" PRIu64 "\n", v,
                 st->last_ops[0][0]);
    }
    vt_buf_free(&buf);
    return NULL;
}

/* ---- churn ---- */

static int churn_collect(vt_emitter_t *e, void *ud) {
    (void)ud;
    vt_emit_family(e, VT_GAUGE, "stress_collected", "Emitted during the churn.", NULL, NULL);
    vt_emit_value(e, NULL, 1);
    return 0;
}

static unsigned churn_cycles;

static void *churn_main(void *arg) {
    (void)arg;
    for (unsigned i = 0; !atomic_load(&stop_flag); i++) {
        char id[16];
        snprintf(id, sizeof id, "%u", i % 64);
        vt_counter_series_t *c;
        if (vt_counter_with(churn, VT_VALUES(id), &c) != 0)
            fail("churn: bind failed\n");
        else
            vt_counter_inc(c);
        if (i >= 16) {
            snprintf(id, sizeof id, "%u", (i - 16) % 64);
            int rc = vt_family_remove(vt_counter_family(churn), VT_VALUES(id));
            if (rc != 0 && rc != VT_ENOTFOUND)
                fail("churn: vt_family_remove: %s\n", vt_strerror(rc));
        }
        if (i % 500 == 499)
            vt_family_clear(vt_counter_family(churn));
        if (i % 20 == 0) {
            vt_histogram_t *t;
            vt_histogram_series_t *ts;
            if (vt_histogram_create(NULL, "stress_temp_seconds", "Registered for a moment.",
                                    VT_LABELS("x"), NULL, 0, &t) != 0) {
                fail("churn: create failed\n");
                continue;
            }
            vt_counter_t *tc;
            if (vt_counter_create(NULL, "stress_temp_total", "Registered for a moment.",
                                  VT_LABELS("x"), &tc) != 0) {
                fail("churn: create failed\n");
                vt_family_destroy(vt_histogram_family(t));
                continue;
            }
            for (int k = 0; k < 8; k++) {
                /* New series start from zero, also on cells freed a moment ago. */
                char x[16];
                snprintf(x, sizeof x, "%d", k);
                uint64_t count = 99;
                vt_counter_series_t *tcs;
                if (vt_histogram_with(t, VT_VALUES(x), &ts) != 0 ||
                    vt_counter_with(tc, VT_VALUES(x), &tcs) != 0) {
                    fail("churn: bind failed\n");
                    continue;
                }
                vt_histogram_get(ts, &count, NULL);
                if (count != 0 || vt_counter_get(tcs) != 0)
                    fail("churn: a new series starts at %" PRIu64 " / %.17g\n", count,
                         vt_counter_get(tcs));
                for (int v = 0; v < 4; v++)
                    vt_histogram_observe(ts, obs_value[v]);
                vt_counter_add_u64(tcs, 3);
                vt_histogram_get(ts, &count, NULL);
                if (count != 4 || vt_counter_get(tcs) != 3)
                    fail("churn: a series holds %" PRIu64 " / %.17g\n", count, vt_counter_get(tcs));
            }
            vt_collector_t *col = NULL;
            int rc = vt_registry_register(reg, vt_histogram_family(t));
            int rc3 = vt_registry_register(reg, vt_counter_family(tc));
            int rc2 = vt_registry_add_collector(reg, VT_LABELS("stress_collected"), churn_collect,
                                                NULL, NULL, &col);
            if (rc != 0 || rc2 != 0 || rc3 != 0)
                fail("churn: register: %s / %s / %s\n", vt_strerror(rc), vt_strerror(rc2),
                     vt_strerror(rc3));
            sleep_ms(1);
            if (rc == 0 && (rc = vt_registry_unregister(reg, vt_histogram_family(t))) != 0)
                fail("churn: unregister: %s\n", vt_strerror(rc));
            if (rc2 == 0 && (rc2 = vt_registry_remove_collector(reg, col)) != 0)
                fail("churn: remove collector: %s\n", vt_strerror(rc2));
            if (rc3 == 0 && (rc3 = vt_registry_unregister(reg, vt_counter_family(tc))) != 0)
                fail("churn: unregister: %s\n", vt_strerror(rc3));
            if ((rc = vt_family_destroy(vt_histogram_family(t))) != 0 ||
                (rc3 = vt_family_destroy(vt_counter_family(tc))) != 0)
                fail("churn: destroy: %s / %s\n", vt_strerror(rc), vt_strerror(rc3));
            churn_cycles++;
        }
    }
    return NULL;
}

/* ---- watchdog ---- */

static void *watchdog_main(void *arg) {
    int64_t deadline = now_ns() + (int64_t)(intptr_t)arg * 1000000000;
    while (!atomic_load(&watchdog_done)) {
        if (now_ns() > deadline) {
            fprintf(stderr, "watchdog: no end after %ld s (phase: %s); deadlock?\n",
                    (long)(intptr_t)arg, atomic_load(&phase));
            fflush(stderr);
            _exit(1);
        }
        sleep_ms(100);
    }
    return NULL;
}

/* ---- the run ---- */

static uint64_t tot_bound[NSLOTS], tot_looked[NSLOTS], tot_lat[NSLOTS][4], tot_size[NSLOTS];
static unsigned fresh_slot[MAX_FRESH], fresh_id[MAX_FRESH];
static size_t nfresh;
static unsigned nworkers;

static void collect(worker_t *w) {
    pthread_join(w->th, NULL);
    tot_bound[w->slot] += w->bound;
    tot_looked[w->slot] += w->looked;
    for (int v = 0; v < 4; v++)
        tot_lat[w->slot][v] += w->lat[v];
    tot_size[w->slot] += w->size_count;
    for (uint64_t i = 0; i < w->nfresh && nfresh < MAX_FRESH; i++) {
        fresh_slot[nfresh] = (unsigned)w->slot;
        fresh_id[nfresh++] = w->fresh_ids[i];
    }
}

static int start(worker_t *w, int slot, unsigned gen, uint64_t *rng) {
    memset(w, 0, sizeof *w);
    w->slot = slot;
    w->gen = gen;
    w->end_ns = now_ns() + (int64_t)(100 + rng_next(rng) % 400) * 1000000;
    return pthread_create(&w->th, NULL, worker_main, w);
}

static void test_run(void) {
    long run_ms = env_long("VT_STRESS_MS", 3000);
    worker_t workers[NSLOTS];
    uint64_t rng = 42;
    unsigned gen = 1;
    pthread_t scraper, churner;
    atomic_store(&phase, "running");
    for (int s = 0; s < NSLOTS; s++)
        CHECK_INT(start(&workers[s], s, gen++, &rng), 0);
    CHECK_INT(pthread_create(&scraper, NULL, scraper_main, NULL), 0);
    CHECK_INT(pthread_create(&churner, NULL, churn_main, NULL), 0);
    int64_t end = now_ns() + run_ms * 1000000;
    while (now_ns() < end) {
        for (int s = 0; s < NSLOTS; s++) {
            if (!atomic_load(&workers[s].finished))
                continue;
            collect(&workers[s]);
            nworkers++;
            CHECK_INT(start(&workers[s], s, gen++, &rng), 0);
        }
        sleep_ms(5);
    }
    atomic_store(&phase, "joining");
    atomic_store(&stop_flag, 1);
    for (int s = 0; s < NSLOTS; s++) {
        collect(&workers[s]);
        nworkers++;
    }
    pthread_join(scraper, NULL);
    pthread_join(churner, NULL);
    atomic_store(&phase, "final checks");
    printf("%u worker threads, %d text and %d OpenMetrics scrapes (%d parsed strictly, %zu "
           "samples), %u churn cycles, %zu fresh series\n",
           nworkers, scrape_result.text, scrape_result.om, scrape_result.parsed,
           scrape_result.parsed_samples, churn_cycles, nfresh);
    CHECK_INT(atomic_load(&failures), 0);
    CHECK(nworkers > NSLOTS);
    CHECK(scrape_result.text >= 3 && scrape_result.om >= 3);
    CHECK_INT(scrape_result.parsed, scrape_result.text + scrape_result.om);
    CHECK(churn_cycles >= 2);
}

static double sample(const char *name, const char *const *names, const char *const *values) {
    double v = -1;
    int rc = vt_registry_get_sample_value(reg, name, names, values, &v);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", name, vt_strerror(rc));
    CHECK_INT(rc, 0);
    return v;
}

static void test_totals(void) {
    static const char *const les[NBUCKETS] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                              "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
    for (int s = 0; s < NSLOTS; s++) {
        char slot[16];
        snprintf(slot, sizeof slot, "%d", s);
        CHECK_DBL(sample("stress_ops_total", VT_LABELS("worker", "kind"), VT_VALUES(slot, "bound")),
                  (double)tot_bound[s]);
        CHECK_DBL(
            sample("stress_ops_total", VT_LABELS("kind", "worker"), VT_VALUES("looked_up", slot)),
            (double)tot_looked[s]);
        uint64_t count = 0, cum = 0;
        double sum = 0;
        for (int v = 0; v < 4; v++) {
            count += tot_lat[s][v];
            sum += obs_value[v] * (double)tot_lat[s][v];
        }
        CHECK_DBL(sample("stress_latency_seconds_count", VT_LABELS("worker"), VT_VALUES(slot)),
                  (double)count);
        CHECK_DBL(sample("stress_latency_seconds_sum", VT_LABELS("worker"), VT_VALUES(slot)), sum);
        for (int b = 0; b < NBUCKETS; b++) {
            for (int v = 0; v < 4; v++)
                if (obs_bucket[v] == b)
                    cum += tot_lat[s][v];
            CHECK_DBL(sample("stress_latency_seconds_bucket", VT_LABELS("worker", "le"),
                             VT_VALUES(slot, les[b])),
                      (double)cum);
        }
        CHECK_DBL(sample("stress_size_bytes_count", VT_LABELS("worker"), VT_VALUES(slot)),
                  (double)tot_size[s]);
        CHECK_DBL(sample("stress_size_bytes_sum", VT_LABELS("worker"), VT_VALUES(slot)),
                  SUMMARY_VALUE * (double)tot_size[s]);
    }
    CHECK_INT(vt_family_series_count(vt_counter_family(ops)), 2 * NSLOTS);
    CHECK_INT(vt_family_series_count(vt_counter_family(fresh)), nfresh);
    /* Every fresh series holds exactly its one increment: a reused cell that
     * was not zeroed, or a count lost in a fold, shows here. Check a sample of
     * them one by one, and all of them through one scrape. */
    for (size_t i = 0; i < nfresh; i += 37) {
        char slot[16], id[16];
        snprintf(slot, sizeof slot, "%u", fresh_slot[i]);
        snprintf(id, sizeof id, "%u", fresh_id[i]);
        CHECK_DBL(sample("stress_fresh_total", VT_LABELS("worker", "id"), VT_VALUES(slot, id)), 1);
    }
    vt_buf_t buf = {0};
    CHECK_INT(vt_registry_write_buf(reg, NULL, &buf), 0);
    size_t lines = 0;
    for (const char *p = buf.data; p && (p = strstr(p, "\nstress_fresh_total{")) != NULL; p++) {
        lines++;
        const char *v = strchr(p, '}');
        if (v && strncmp(v, "} 1\n", 4) != 0) {
            fprintf(stderr, "fresh series not 1: %.*s\n", (int)strcspn(p + 1, "\n"), p + 1);
            CHECK(0);
        }
    }
    CHECK_INT(lines, nfresh);
    vt_buf_free(&buf);
}

int main(void) {
    long watchdog_s = env_long("VT_STRESS_WATCHDOG_S", 100);
    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog_main, (void *)(intptr_t)watchdog_s) != 0) {
        fprintf(stderr, "cannot start the watchdog\n");
        return 1;
    }
    vt_metric_opts_t o;
    int rc = vt_registry_create(&reg);
    vt_metric_opts_init(&o);
    o.name = "stress_ops_total";
    o.help = "Increments by worker slot and path.";
    o.label_names = VT_LABELS("worker", "kind");
    rc = rc ? rc : vt_counter_create_opts(reg, &o, &ops);
    o.name = "stress_fresh_total";
    o.help = "One increment per newly bound label set.";
    o.label_names = VT_LABELS("worker", "id");
    o.max_series = 100000;
    rc = rc ? rc : vt_counter_create_opts(reg, &o, &fresh);
    rc = rc ? rc
            : vt_counter_create(reg, "stress_churn_total", "Series removed and re-added.",
                                VT_LABELS("id"), &churn);
    rc = rc ? rc
            : vt_histogram_create(reg, "stress_latency_seconds", "Fixed observations.",
                                  VT_LABELS("worker"), NULL, 0, &lat);
    rc = rc ? rc
            : vt_summary_create(reg, "stress_size_bytes", "Observations of 2.", VT_LABELS("worker"),
                                &sizes);
    if (rc != 0) {
        fprintf(stderr, "setup: %s\n", vt_strerror(rc));
        return 1;
    }
    RUN(test_run);
    RUN(test_totals);
    vt_registry_destroy(reg);
    atomic_store(&watchdog_done, 1);
    pthread_join(wd, NULL);
    TEST_EXIT();
}
