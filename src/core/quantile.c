/* quantile.c - summary quantiles: a relative-error sketch over a sliding window.
 *
 * Each summary series with objectives keeps, per age slice of the window, a
 * log-bucketed histogram of its observations (the DDSketch mapping): value
 * x > 0 goes to bin i = ceil(log(x) / log(g)) with g = (1 + a) / (1 - a), and
 * bin i is reported as 2 g^i / (g + 1), which is within a relative error a of
 * every value the bin holds. Negative values mirror into their own bins;
 * |x| below VT__SKETCH_MIN counts as zero. The quantile q of n observations is
 * the bin holding the observation of rank floor(q (n - 1)) in sorted order, so
 * the reported value is within relative error a of that exact order
 * statistic, whatever the stream (sorted, adversarial, heavy-tailed).
 *
 * The bin of x comes without log(): the exponent of x plus a table of
 * log2 over the top 10 bits of its mantissa gives the bin or the one below
 * (the table's error is under a twentieth of a bin at a = 1%), and one
 * comparison with the bins' precomputed upper bounds settles it, exactly as
 * ceil(log(x) / log(g)) would. Families with more than MAX_TABLE bins (a
 * relative error under about 0.05%) keep the log() path. The age slice of a
 * time is a product with 1 / slice_ns, not a division.
 *
 * Concurrency: bins are shared atomic counters (relaxed fetch_add: the summary
 * pays one atomic add beside the per-thread count and sum cells). Pages of 64
 * bins are allocated on first touch and published with a compare-and-swap.
 * An age slice records its epoch + 1; a writer that finds an older epoch in
 * the slice it needs rotates it under the sketch's mutex: zero the counts,
 * then publish the new epoch with release, so no writer of the new epoch
 * counts into a slice before it was cleared. Scrapes read the counts relaxed:
 * a quantile is an estimate from one moment give or take a few observations.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define PAGE_BINS 64u
#define MIN_VALUE 1e-9  /* smaller magnitudes count as zero */
#define MAX_VALUE 1e15  /* larger ones land in the top bin */
#define MAX_TABLE 65536 /* bins of a family up to which the bounds table is kept */
#define TOP_BITS 10

/* log2(1 + t / 1024): at or below log2 of any mantissa whose top bits are t. */
static double log2_top[1u << TOP_BITS];
static pthread_once_t log2_once = PTHREAD_ONCE_INIT;
static void make_log2(void) {
    for (uint32_t t = 0; t < (1u << TOP_BITS); t++)
        log2_top[t] = log2(1 + (double)t / (double)(1u << TOP_BITS));
}

typedef _Atomic(uint32_t *) page_ptr_t;

struct age {
    _Atomic uint64_t epoch; /* epoch + 1; 0 while never used */
    _Atomic uint64_t zero;  /* observations with |x| < MIN_VALUE */
    page_ptr_t *pos, *neg;  /* npages page pointers each */
};

struct vt__sketch {
    pthread_mutex_t rot_mu; /* serializes rotations */
    struct age ages[];      /* cfg->ages of them */
};

static uint64_t coarse_ns(void *unused) {
    (void)unused;
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int vt__sketch_cfg_init(vt__sketch_cfg_t *c, const vt_metric_opts_t *o) {
    memset(c, 0, sizeof *c);
    double a = o->relative_error > 0 ? o->relative_error : 0.01;
    double age = o->max_age_seconds > 0 ? o->max_age_seconds : 600;
    unsigned ages = o->age_buckets ? o->age_buckets : 5;
    if (!(a < 0.5) || !isfinite(age) || ages > 64 || age / ages < 1e-3)
        return VT_ERANGE;
    if (o->quantile_count > 32)
        return VT_ELIMIT;
    for (size_t i = 0; i < o->quantile_count; i++)
        if (!(o->quantiles[i] >= 0 && o->quantiles[i] <= 1) ||
            (i && !(o->quantiles[i] > o->quantiles[i - 1])))
            return VT_ERANGE;
    c->gamma = (1 + a) / (1 - a);
    c->inv_log_gamma = 1 / log(c->gamma);
    c->min_index = (int32_t)floor(log(MIN_VALUE) * c->inv_log_gamma);
    int32_t max_index = (int32_t)ceil(log(MAX_VALUE) * c->inv_log_gamma);
    uint32_t span = (uint32_t)(max_index - c->min_index + 1);
    c->npages = (span + PAGE_BINS - 1) / PAGE_BINS;
    c->ages = ages;
    c->slice_ns = (uint64_t)(age / ages * 1e9);
    c->inv_slice_ns = 1.0 / (double)c->slice_ns;
    c->inv_log2_gamma = 1 / log2(c->gamma);
    c->clock = coarse_ns;
    uint32_t nbins = c->npages * PAGE_BINS;
    if (nbins <= MAX_TABLE) {
        pthread_once(&log2_once, make_log2);
        if (!(c->bounds = vt__malloc(nbins * sizeof(double))))
            return VT_ENOMEM;
        for (uint32_t k = 0; k < nbins; k++)
            c->bounds[k] = pow(c->gamma, (double)((int32_t)k + c->min_index));
    }
    c->nq = o->quantile_count;
    c->q = vt__calloc(c->nq ? c->nq : 1, sizeof(double));
    if (!c->q) {
        vt__free(c->bounds);
        c->bounds = NULL;
        return VT_ENOMEM;
    }
    memcpy(c->q, o->quantiles, c->nq * sizeof(double));
    return 0;
}

void vt__sketch_cfg_cleanup(vt__sketch_cfg_t *c) {
    vt__free(c->q);
    vt__free(c->bounds);
}

vt__sketch_t *vt__sketch_new(const vt__sketch_cfg_t *c) {
    size_t head = sizeof(vt__sketch_t) + c->ages * sizeof(struct age);
    size_t dirs = (size_t)c->ages * 2 * c->npages * sizeof(page_ptr_t);
    vt__sketch_t *s = vt__calloc(1, head + dirs);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->rot_mu, NULL);
    page_ptr_t *d = (page_ptr_t *)((char *)s + head);
    for (uint32_t i = 0; i < c->ages; i++) {
        s->ages[i].pos = d + (size_t)i * 2 * c->npages;
        s->ages[i].neg = s->ages[i].pos + c->npages;
    }
    return s;
}

void vt__sketch_free(vt__sketch_t *s, const vt__sketch_cfg_t *c) {
    if (!s)
        return;
    for (uint32_t i = 0; i < c->ages; i++)
        for (uint32_t p = 0; p < 2 * c->npages; p++)
            vt__free(atomic_load_explicit(&s->ages[i].pos[p], memory_order_relaxed));
    pthread_mutex_destroy(&s->rot_mu);
    vt__free(s);
}

static void rotate(vt__sketch_t *s, const vt__sketch_cfg_t *c, struct age *a, uint64_t e) {
    pthread_mutex_lock(&s->rot_mu);
    uint64_t have = atomic_load_explicit(&a->epoch, memory_order_relaxed);
    if (have < e + 1) { /* a newer epoch already there means we were slow: keep it */
        for (uint32_t p = 0; p < 2 * c->npages; p++) {
            uint32_t *page = atomic_load_explicit(&a->pos[p], memory_order_acquire);
            if (page)
                for (uint32_t i = 0; i < PAGE_BINS; i++)
                    atomic_store_explicit((_Atomic uint32_t *)&page[i], 0, memory_order_relaxed);
        }
        atomic_store_explicit(&a->zero, 0, memory_order_relaxed);
        atomic_store_explicit(&a->epoch, e + 1, memory_order_release);
    }
    pthread_mutex_unlock(&s->rot_mu);
}

static _Atomic uint32_t *bin(page_ptr_t *dir, int32_t k) {
    uint32_t page = (uint32_t)k / PAGE_BINS;
    uint32_t *p = atomic_load_explicit(&dir[page], memory_order_acquire);
    if (VT__UNLIKELY(!p)) {
        uint32_t *fresh = vt__calloc(PAGE_BINS, sizeof(uint32_t));
        if (!fresh)
            return NULL; /* out of memory: the observation misses the quantiles */
        if (atomic_compare_exchange_strong_explicit(&dir[page], &p, fresh, memory_order_acq_rel,
                                                    memory_order_acquire))
            p = fresh;
        else
            vt__free(fresh); /* another thread published first: p is its page */
    }
    return (_Atomic uint32_t *)&p[(uint32_t)k % PAGE_BINS];
}

/* The age slice (epoch) of monotonic time t: one function for writers and
 * scrapes. The product is monotonic in t, which is all a window needs. */
static inline uint64_t epoch_of(const vt__sketch_cfg_t *c, uint64_t t) {
    return (uint64_t)(int64_t)((double)t * c->inv_slice_ns); /* t < 2^63 */
}

/* e % ages, remembered per thread for the last (e, ages) asked: e changes
 * once per slice, and a division costs more than the rest of the lookup. */
#define TLS_IE __attribute__((tls_model("initial-exec")))
static __thread uint64_t slot_e TLS_IE = UINT64_MAX;
static __thread uint32_t slot_ages TLS_IE, slot_of_e TLS_IE;
static inline uint32_t age_slot(uint64_t e, uint32_t ages) {
    if (VT__UNLIKELY(e != slot_e || ages != slot_ages)) {
        slot_e = e;
        slot_ages = ages;
        slot_of_e = (uint32_t)(e % ages);
    }
    return slot_of_e;
}

/* The bin (offset index) of m in [MIN_VALUE, MAX_VALUE]: the smallest k with
 * gamma^(k + min_index) >= m. */
static inline int32_t bin_index(const vt__sketch_cfg_t *c, double m) {
    int32_t last = (int32_t)(c->npages * PAGE_BINS) - 1;
    if (VT__UNLIKELY(!c->bounds)) {
        int32_t k = (int32_t)ceil(log(m) * c->inv_log_gamma) - c->min_index;
        return k < 0 ? 0 : k > last ? last : k;
    }
    uint64_t b;
    memcpy(&b, &m, sizeof b); /* m is normal: MIN_VALUE is far above the subnormals */
    double lg =
        (double)((int)(b >> 52) - 1023) + log2_top[(b >> (52 - TOP_BITS)) & ((1u << TOP_BITS) - 1)];
    /* At least about -0.05 for m >= MIN_VALUE: truncation is floor, or 0. */
    double x = lg * c->inv_log2_gamma - (double)c->min_index;
    int32_t k = x < (double)last ? (int32_t)x : last;
    while (k > 0 && c->bounds[k - 1] >= m) /* rounding at a bound: at most a step */
        k--;
    while (k < last && c->bounds[k] < m)
        k++;
    return k;
}

void vt__sketch_add(vt__sketch_t *s, const vt__sketch_cfg_t *c, double v) {
    uint64_t e = epoch_of(c, c->clock(c->clock_ud));
    struct age *a = &s->ages[age_slot(e, c->ages)];
    if (VT__UNLIKELY(atomic_load_explicit(&a->epoch, memory_order_acquire) != e + 1))
        rotate(s, c, a, e);
    double m = fabs(v);
    if (!(m >= MIN_VALUE)) {
        atomic_fetch_add_explicit(&a->zero, 1, memory_order_relaxed);
        return;
    }
    if (m > MAX_VALUE)
        m = MAX_VALUE;
    _Atomic uint32_t *b = bin(v > 0 ? a->pos : a->neg, bin_index(c, m));
    if (b)
        atomic_fetch_add_explicit(b, 1, memory_order_relaxed);
}

/* Count in bin k (offset index) of one sign over the ages in the window. */
static uint64_t count_at(vt__sketch_t *s, const vt__sketch_cfg_t *c, const int *live, int neg,
                         uint32_t k) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < c->ages; i++) {
        if (!live[i])
            continue;
        page_ptr_t *dir = neg ? s->ages[i].neg : s->ages[i].pos;
        uint32_t *p = atomic_load_explicit(&dir[k / PAGE_BINS], memory_order_acquire);
        if (p)
            n += atomic_load_explicit((_Atomic uint32_t *)&p[k % PAGE_BINS], memory_order_relaxed);
    }
    return n;
}

static int page_used(vt__sketch_t *s, const vt__sketch_cfg_t *c, const int *live, int neg,
                     uint32_t page) {
    for (uint32_t i = 0; i < c->ages; i++)
        if (live[i] && atomic_load_explicit(&(neg ? s->ages[i].neg : s->ages[i].pos)[page],
                                            memory_order_acquire))
            return 1;
    return 0;
}

static double bin_value(const vt__sketch_cfg_t *c, uint32_t k) {
    int32_t i = (int32_t)k + c->min_index;
    return 2 * pow(c->gamma, i) / (c->gamma + 1);
}

void vt__sketch_quantiles(vt__sketch_t *s, const vt__sketch_cfg_t *c, double *out) {
    uint64_t e = epoch_of(c, c->clock(c->clock_ud));
    int live[64];
    uint64_t total = 0, zero = 0;
    for (uint32_t i = 0; i < c->ages; i++) {
        uint64_t ep = atomic_load_explicit(&s->ages[i].epoch, memory_order_acquire);
        /* In the window: the current slice and the ages - 1 before it. */
        live[i] = ep != 0 && ep - 1 <= e && ep - 1 + c->ages > e;
        if (live[i])
            zero += atomic_load_explicit(&s->ages[i].zero, memory_order_relaxed);
    }
    uint32_t nbins = c->npages * PAGE_BINS;
    /* Pass 1: the total, page by page (untouched pages are skipped). */
    total = zero;
    for (int neg = 0; neg < 2; neg++)
        for (uint32_t p = 0; p < c->npages; p++)
            if (page_used(s, c, live, neg, p))
                for (uint32_t k = p * PAGE_BINS; k < (p + 1) * PAGE_BINS; k++)
                    total += count_at(s, c, live, neg, k);
    if (total == 0) {
        for (size_t q = 0; q < c->nq; q++)
            out[q] = NAN;
        return;
    }
    /* Pass 2: walk in value order (negatives from the largest magnitude, zero,
     * positives) and answer every objective on the way. */
    size_t q = 0;
    uint64_t seen = 0;
    for (int part = 0; part < 3 && q < c->nq; part++) {
        for (uint32_t j = 0; j < (part == 1 ? 1u : nbins) && q < c->nq; j++) {
            uint64_t n;
            double val;
            if (part == 1) {
                n = zero;
                val = 0;
            } else {
                uint32_t k = part == 0 ? nbins - 1 - j : j;
                if (!page_used(s, c, live, part == 0, k / PAGE_BINS)) {
                    /* skip to the next page in walking order */
                    j += part == 0 ? k % PAGE_BINS : PAGE_BINS - 1 - k % PAGE_BINS;
                    continue;
                }
                n = count_at(s, c, live, part == 0, k);
                val = part == 0 ? -bin_value(c, k) : bin_value(c, k);
            }
            if (!n)
                continue;
            seen += n;
            while (q < c->nq && (double)seen > floor(c->q[q] * (double)(total - 1))) {
                out[q] = val;
                q++;
            }
        }
    }
    for (; q < c->nq; q++) /* counts moved under us: use the largest seen */
        out[q] = NAN;
}
