/* native.c - native (sparse exponential) histograms, as Prometheus defines them.
 *
 * With schema s, bucket i > 0 of the positive side holds values in
 * (2^((i-1)/2^s), 2^(i/2^s)]; the negative side mirrors it; values with
 * |v| <= the zero threshold go to the zero bucket. Count and sum live in the
 * histogram's per-thread cells (its +Inf bucket is the count); the sparse
 * buckets are shared relaxed atomic counters in pages of 64, allocated on
 * first touch, for indexes within +-VT__NH_SPAN octaves of 1 (values beyond
 * land in the outermost bucket; smaller ones in the zero bucket).
 *
 * When more than max_buckets buckets are populated, the strategy client_golang
 * uses applies, under the series' mutex: reset (when min_reset has passed since
 * the last reset), else widen the zero bucket to the next bucket boundary (up
 * to max_zero_threshold), else halve the resolution (schema - 1). A writer may
 * still be adding into the state it loaded, so a state is never changed in
 * place: a new "generation" (schema, zero threshold) becomes current, and a
 * scrape merges every generation into the current one's buckets (a bucket of
 * a finer schema maps to exactly one of a coarser schema; buckets under the
 * zero threshold join the zero bucket). A reset sets a baseline, per
 * generation, of what it held, and starts again from the first generation, so
 * resets allocate nothing and every increment is counted exactly once.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define PAGE 64u
#define MAX_GENS 32

typedef _Atomic(_Atomic uint64_t *) nh_page_t;

typedef struct gen {
    int32_t schema;
    double zero_threshold;
    int32_t min_index; /* index of bin 0 */
    uint32_t npages;   /* per sign */
    nh_page_t *pos, *neg;
    _Atomic uint64_t zero;
    _Atomic uint64_t populated; /* bins that went from 0 to 1 */
    /* Baselines, taken at a reset: what the generation held then. */
    uint64_t *base_pos, *base_neg, base_zero;
} gen_t;

struct vt__native {
    pthread_mutex_t mu;       /* serializes strategy changes and scrapes' merges */
    _Atomic uint32_t current; /* index into gens */
    uint32_t ngens;
    uint64_t last_reset_ns;
    int reset_clock_started;
    uint64_t base_populated; /* populated counts at the last reset */
    gen_t gens[MAX_GENS];
};

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int32_t vt__nh_schema_for_factor(double factor) {
    double f = floor(log2(log2(factor)));
    if (f <= -8)
        return 8;
    if (f >= 4)
        return -4;
    return (int32_t)-f;
}

/* Upper bounds 2^(j/2^s - 1), j < 2^s, of the buckets within one octave
 * [0.5, 1), for schemas 1..8 (computed once). */
static double octave_bounds[9][256];
static pthread_once_t bounds_once = PTHREAD_ONCE_INIT;
static void make_bounds(void) {
    for (int s = 1; s <= 8; s++)
        for (int j = 0; j < (1 << s); j++)
            octave_bounds[s][j] = exp2((double)j / (double)(1 << s) - 1);
}

/* The bucket index of v > 0 at schema s: the i with 2^((i-1)/2^s) < v <= 2^(i/2^s). */
/* frexp for a positive finite double, from its bits (no libm call): v =
 * frac * 2^exp with frac in [0.5, 1). Subnormals take the library's way. */
static inline double split(double v, int *exp) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    uint64_t e = (b >> 52) & 0x7FF;
    if (VT__UNLIKELY(e == 0 || e == 0x7FF))
        return frexp(v, exp);
    *exp = (int)e - 1022;
    b = (b & ~((uint64_t)0x7FF << 52)) | ((uint64_t)1022 << 52);
    double f;
    memcpy(&f, &b, sizeof f);
    return f;
}

int32_t vt__nh_index(double v, int32_t s) {
    int exp;
    double frac = split(v, &exp); /* v = frac * 2^exp, frac in [0.5, 1) */
    if (s > 0) {
        const double *b = octave_bounds[s];
        int lo = 0, hi = 1 << s;
        while (lo < hi) { /* first j with b[j] >= frac */
            int mid = (lo + hi) / 2;
            if (b[mid] < frac)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo + (exp - 1) * (1 << s);
    }
    int32_t key = exp;
    if (frac == 0.5)
        key--; /* an exact power of two is its bucket's upper bound */
    int32_t offset = (1 << -s) - 1;
    return (key + offset) >> -s; /* ceil(key / 2^-s), floor division on negatives */
}

/* The upper bound of bucket i at schema s. */
static double upper_bound(int32_t i, int32_t s) {
    return exp2((double)i / exp2((double)s));
}

static int gen_init(gen_t *g, int32_t schema, double zt) {
    memset(g, 0, sizeof *g);
    g->schema = schema;
    g->zero_threshold = zt;
    int64_t per_octave = schema >= 0 ? (1 << schema) : 1;
    int64_t span = (int64_t)VT__NH_SPAN * per_octave;
    g->min_index = (int32_t)-span;
    g->npages = (uint32_t)((2 * span + 1 + PAGE - 1) / PAGE);
    g->pos = vt__calloc(2 * (size_t)g->npages, sizeof(nh_page_t));
    if (!g->pos)
        return VT_ENOMEM;
    g->neg = g->pos + g->npages;
    return 0;
}

static void gen_free(gen_t *g) {
    if (!g->pos)
        return;
    for (uint32_t p = 0; p < 2 * g->npages; p++)
        vt__free(atomic_load_explicit(&g->pos[p], memory_order_relaxed));
    vt__free(g->pos);
    vt__free(g->base_pos);
}

void vt__nh_init(void) {
    pthread_once(&bounds_once, make_bounds);
}

vt__native_t *vt__native_new(const vt__native_cfg_t *c) {
    vt__nh_init();
    vt__native_t *n = vt__calloc(1, sizeof *n);
    if (!n)
        return NULL;
    if (gen_init(&n->gens[0], c->schema, c->zero_threshold) != 0) {
        vt__free(n);
        return NULL;
    }
    pthread_mutex_init(&n->mu, NULL);
    n->ngens = 1;
    (void)c;
    return n;
}

void vt__native_free(vt__native_t *n) {
    if (!n)
        return;
    for (uint32_t i = 0; i < n->ngens; i++)
        gen_free(&n->gens[i]);
    pthread_mutex_destroy(&n->mu);
    vt__free(n);
}

static _Atomic uint64_t *bin(gen_t *g, nh_page_t *dir, int32_t index) {
    int64_t k = (int64_t)index - g->min_index;
    if (k < 0)
        k = 0;
    if (k >= (int64_t)g->npages * PAGE)
        k = (int64_t)g->npages * PAGE - 1;
    uint32_t page = (uint32_t)k / PAGE;
    _Atomic uint64_t *p = atomic_load_explicit(&dir[page], memory_order_acquire);
    if (VT__UNLIKELY(!p)) {
        _Atomic uint64_t *fresh = vt__calloc(PAGE, sizeof(uint64_t));
        if (!fresh)
            return NULL;
        if (atomic_compare_exchange_strong_explicit(&dir[page], &p, fresh, memory_order_acq_rel,
                                                    memory_order_acquire))
            p = fresh;
        else
            vt__free((void *)fresh);
    }
    return &p[(uint32_t)k % PAGE];
}

static void apply_strategy(vt__native_t *n, const vt__native_cfg_t *c);

void vt__native_observe(vt__native_t *n, const vt__native_cfg_t *c, double v) {
    gen_t *g = &n->gens[atomic_load_explicit(&n->current, memory_order_acquire)];
    double m = fabs(v);
    if (m <= g->zero_threshold) {
        atomic_fetch_add_explicit(&g->zero, 1, memory_order_relaxed);
        return;
    }
    _Atomic uint64_t *b = bin(g, v > 0 ? g->pos : g->neg, vt__nh_index(m, g->schema));
    if (!b)
        return; /* out of memory: the observation misses the native buckets */
    if (atomic_fetch_add_explicit(b, 1, memory_order_relaxed) == 0 && c->max_buckets) {
        uint64_t pop = atomic_fetch_add_explicit(&g->populated, 1, memory_order_relaxed) + 1;
        if (VT__UNLIKELY(pop > c->max_buckets))
            apply_strategy(n, c);
    }
}

/* ---- merging generations into the current one ---- */

typedef struct merged {
    int32_t schema;
    double zero_threshold;
    uint64_t zero;
    vt__nh_bucket_t *pos, *neg; /* sorted by index */
    size_t npos, nneg, cap_pos, cap_neg;
} merged_t;

static int add_bucket(vt__nh_bucket_t **v, size_t *n, size_t *cap, int32_t index, uint64_t c) {
    /* Inputs come mostly in order: look back for the same index first. */
    for (size_t i = *n; i > 0 && i + 8 > *n; i--)
        if ((*v)[i - 1].index == index) {
            (*v)[i - 1].count += c;
            return 0;
        }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        vt__nh_bucket_t *x = vt__realloc(*v, nc * sizeof *x);
        if (!x)
            return VT_ENOMEM;
        *v = x;
        *cap = nc;
    }
    (*v)[*n].index = index;
    (*v)[(*n)++].count = c;
    return 0;
}

static int cmp_bucket(const void *a, const void *b) {
    int32_t x = ((const vt__nh_bucket_t *)a)->index, y = ((const vt__nh_bucket_t *)b)->index;
    return x < y ? -1 : x > y;
}

/* Sort by index and fold duplicates. */
static size_t normalize(vt__nh_bucket_t *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_bucket);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && v[k - 1].index == v[i].index)
            v[k - 1].count += v[i].count;
        else if (v[i].count)
            v[k++] = v[i];
    }
    return k;
}

static int merge_gen(merged_t *m, gen_t *g, int use_base) {
    uint64_t z = atomic_load_explicit(&g->zero, memory_order_relaxed);
    m->zero += z - (use_base ? g->base_zero : 0);
    for (int side = 0; side < 2; side++) {
        nh_page_t *dir = side ? g->neg : g->pos;
        uint64_t *base = use_base && g->base_pos ? (side ? g->base_neg : g->base_pos) : NULL;
        for (uint32_t p = 0; p < g->npages; p++) {
            _Atomic uint64_t *page = atomic_load_explicit(&dir[p], memory_order_acquire);
            if (!page)
                continue;
            for (uint32_t j = 0; j < PAGE; j++) {
                uint64_t c = atomic_load_explicit(&page[j], memory_order_relaxed);
                if (base)
                    c -= base[p * PAGE + j];
                if (!c)
                    continue;
                int32_t index = (int32_t)(p * PAGE + j) + g->min_index;
                if (g->schema > m->schema) { /* finer: one coarse bucket holds it */
                    int32_t d = g->schema - m->schema;
                    index = (index + (1 << d) - 1) >> d;
                } else if (g->schema < m->schema) {        /* only late writers after a reset */
                    index *= 1 << (m->schema - g->schema); /* same upper bound */
                }
                if (upper_bound(index, m->schema) <= m->zero_threshold) {
                    m->zero += c;
                    continue;
                }
                int rc = side ? add_bucket(&m->neg, &m->nneg, &m->cap_neg, index, c)
                              : add_bucket(&m->pos, &m->npos, &m->cap_pos, index, c);
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

static int snapshot_locked(vt__native_t *n, vt__nh_view_t *out) {
    memset(out, 0, sizeof *out);
    gen_t *cur = &n->gens[atomic_load_explicit(&n->current, memory_order_relaxed)];
    merged_t m = {.schema = cur->schema, .zero_threshold = cur->zero_threshold};
    int rc = 0;
    for (uint32_t i = 0; i < n->ngens && !rc; i++)
        rc = merge_gen(&m, &n->gens[i], 1);
    if (rc) {
        vt__free(m.pos);
        vt__free(m.neg);
        return rc;
    }
    out->schema = m.schema;
    out->zero_threshold = m.zero_threshold;
    out->zero_count = m.zero;
    out->npos = m.pos ? normalize(m.pos, m.npos) : 0;
    out->nneg = m.neg ? normalize(m.neg, m.nneg) : 0;
    out->pos = m.pos;
    out->neg = m.neg;
    return 0;
}

int vt__native_snapshot(vt__native_t *n, vt__nh_view_t *out) {
    pthread_mutex_lock(&n->mu);
    int rc = snapshot_locked(n, out);
    pthread_mutex_unlock(&n->mu);
    return rc;
}

void vt__nh_view_free(vt__nh_view_t *v) {
    vt__free(v->pos);
    vt__free(v->neg);
    memset(v, 0, sizeof *v);
}

/* ---- the bucket-limit strategy (under n->mu) ---- */

static int take_baselines(gen_t *g) {
    size_t bins = (size_t)g->npages * PAGE;
    if (!g->base_pos) {
        g->base_pos = vt__calloc(2 * bins, sizeof(uint64_t));
        if (!g->base_pos)
            return VT_ENOMEM;
        g->base_neg = g->base_pos + bins;
    }
    for (int side = 0; side < 2; side++) {
        nh_page_t *dir = side ? g->neg : g->pos;
        uint64_t *base = side ? g->base_neg : g->base_pos;
        for (uint32_t p = 0; p < g->npages; p++) {
            _Atomic uint64_t *page = atomic_load_explicit(&dir[p], memory_order_acquire);
            for (uint32_t j = 0; j < PAGE && page; j++)
                base[p * PAGE + j] = atomic_load_explicit(&page[j], memory_order_relaxed);
        }
    }
    g->base_zero = atomic_load_explicit(&g->zero, memory_order_relaxed);
    return 0;
}

/* Start again from the first generation, with baselines everywhere. The
 * histogram's own count and sum (the classic cells) are not reset: like a
 * counter, they only grow; the native buckets restart. */
static int reset(vt__native_t *n) {
    for (uint32_t i = 0; i < n->ngens; i++) {
        int rc = take_baselines(&n->gens[i]);
        if (rc)
            return rc;
        atomic_store_explicit(&n->gens[i].populated, 0, memory_order_relaxed);
    }
    atomic_store_explicit(&n->current, 0, memory_order_release);
    return 0;
}

/* Use (or create) the generation (schema, zt) as current, and count its
 * populated buckets as the merged view has them (an overestimate afterwards:
 * a later first hit may land in a bucket already counted). */
static int switch_to(vt__native_t *n, int32_t schema, double zt) {
    uint32_t target = n->ngens;
    for (uint32_t i = 0; i < n->ngens; i++)
        if (n->gens[i].schema == schema && n->gens[i].zero_threshold == zt)
            target = i;
    if (target == n->ngens) {
        if (n->ngens == MAX_GENS)
            return VT_ELIMIT;
        int rc = gen_init(&n->gens[n->ngens], schema, zt);
        if (rc)
            return rc;
        n->ngens++;
    }
    atomic_store_explicit(&n->current, target, memory_order_release);
    vt__nh_view_t v;
    uint64_t populated = 0;
    if (snapshot_locked(n, &v) == 0) {
        populated = v.npos + v.nneg;
        vt__nh_view_free(&v);
    }
    atomic_store_explicit(&n->gens[target].populated, populated, memory_order_relaxed);
    return 0;
}

static void apply_strategy(vt__native_t *n, const vt__native_cfg_t *c) {
    pthread_mutex_lock(&n->mu);
    uint64_t now = c->clock ? c->clock(c->clock_ud) : mono_ns();
    if (!n->reset_clock_started) { /* the reset rule counts from the first time it is asked */
        n->reset_clock_started = 1;
        n->last_reset_ns = now;
    }
    for (int round = 0; round < 2 * MAX_GENS; round++) {
        gen_t *cur = &n->gens[atomic_load_explicit(&n->current, memory_order_relaxed)];
        if (atomic_load_explicit(&cur->populated, memory_order_relaxed) <= c->max_buckets)
            break; /* within the limit (maybe another writer already acted) */
        if (c->min_reset_ns && now >= n->last_reset_ns &&
            now - n->last_reset_ns >= c->min_reset_ns) {
            if (reset(n) == 0)
                n->last_reset_ns = now;
            break;
        }
        /* Widen the zero bucket to the upper bound of the lowest populated bucket. */
        if (cur->zero_threshold < c->max_zero_threshold) {
            vt__nh_view_t v;
            if (snapshot_locked(n, &v) == 0) {
                double lowest = INFINITY;
                if (v.npos)
                    lowest = upper_bound(v.pos[0].index, v.schema);
                if (v.nneg && upper_bound(v.neg[0].index, v.schema) < lowest)
                    lowest = upper_bound(v.neg[0].index, v.schema);
                vt__nh_view_free(&v);
                if (lowest <= c->max_zero_threshold && switch_to(n, cur->schema, lowest) == 0)
                    continue;
            }
        }
        if (cur->schema <= -4 || switch_to(n, cur->schema - 1, cur->zero_threshold) != 0)
            break;
    }
    pthread_mutex_unlock(&n->mu);
}
