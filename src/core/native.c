/* native.c - native (sparse exponential) histograms, as Prometheus defines them.
 *
 * With schema s, bucket i > 0 of the positive side holds values in
 * (2^((i-1)/2^s), 2^(i/2^s)]; the negative side mirrors it; values with
 * |v| <= the zero threshold go to the zero bucket. Count and sum live in the
 * histogram's per-thread cells (its +Inf bucket is the count). The sparse
 * buckets are per-thread cells too: runs of 64 cells ("pages") in the same
 * slot space (shard.c), allocated on first touch for indexes within
 * +-VT__NH_SPAN octaves of 1 (values beyond land in the outermost bucket;
 * smaller ones in the zero bucket, which has a cell of its own).
 *
 * Consistency: an observation updates its classic bucket, the sum and its
 * native bucket inside the series' sequence bracket (seq odd ... seq even) on
 * the observing thread, with no read-modify-write. A scrape reads, per
 * thread, the classic cells and every native cell between two equal even
 * sequence numbers (vt__sum_seq_runs), so each thread contributes a whole
 * number of observations to both: count == zero bucket + native buckets, and
 * sum and classic buckets match them, in every scrape. Pages are allocated
 * (vt__slots_alloc, under the cells lock) before the bracket opens, never in
 * it; a scrape holds the cells lock, so the set of pages can only grow by a
 * page already allocated, which the "published" counter reveals (the scrape
 * then reads again).
 *
 * When more than max_buckets buckets are populated (counted once per bucket
 * and generation with a shared bitmap, tested before it is touched: a relaxed
 * load of a line that is rarely written), the strategy client_golang uses
 * applies, under the series' mutex: reset (when min_reset has passed since
 * the last reset), else widen the zero bucket to the next bucket boundary (up
 * to max_zero_threshold), else halve the resolution (schema - 1). A writer may
 * still be adding into the state it loaded, so a state is never changed in
 * place: a new "generation" (schema, zero threshold) becomes current, and a
 * scrape merges every generation into the current one's buckets (a bucket of
 * a finer schema maps to exactly one of a coarser schema; buckets under the
 * zero threshold join the zero bucket). A reset sets a baseline, per
 * generation, of what it held, and starts again from the first generation, so
 * resets allocate nothing and every increment is counted exactly once.
 * Everything a scrape reads of the generations (their number, pages,
 * baselines) changes only under the cells lock, which scrapes hold: scrapes
 * never take the series' mutex (lock order: series mutex -> cells lock).
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

typedef _Atomic uint32_t nh_page_t; /* first slot of a page of 64 cells, plus 1; 0: none */

typedef struct gen {
    int32_t schema;
    double zero_threshold;
    int32_t min_index; /* index of bin 0 */
    uint32_t npages;   /* per sign */
    int64_t last_bin;  /* npages * PAGE - 1 */
    nh_page_t *pos, *neg;
    uint32_t zero_slot;         /* the zero bucket's cell */
    _Atomic uint64_t *seen;     /* a bit per bin (both sides): counted in populated */
    _Atomic uint64_t populated; /* bins first touched since the last reset */
    /* Baselines, taken at a reset: what the generation held then. */
    uint64_t *base_pos, *base_neg, base_zero;
} gen_t;

struct vt__native {
    pthread_mutex_t mu;         /* serializes strategy changes */
    _Atomic(gen_t *) current;   /* one of gens */
    uint32_t ngens;             /* changed under the cells lock */
    _Atomic uint64_t published; /* pages published so far */
    uint64_t last_reset_ns;
    int reset_clock_started;
    gen_t gens[MAX_GENS];
};

/* Kinds of a page's cells (all integers) and of a zero cell. */
static uint8_t page_kinds[PAGE];

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
 * [0.5, 1), for schemas 1..8, with 1 after the last (computed once); and per
 * schema, for each of 1024 equal slices of [0.5, 1) (the top 10 bits of the
 * mantissa), the first j whose bound reaches the slice's start. A slice is
 * narrower than any bucket, so from there at most one step remains: no
 * binary search, no unpredictable branches. */
#define SLICE_BITS 10
static double octave_bounds[9][257];
static uint16_t slice_start[9][1u << SLICE_BITS];
static pthread_once_t bounds_once = PTHREAD_ONCE_INIT;
static void make_bounds(void) {
    for (int s = 1; s <= 8; s++) {
        int nb = 1 << s;
        for (int j = 0; j < nb; j++)
            octave_bounds[s][j] = exp2((double)j / (double)nb - 1);
        octave_bounds[s][nb] = 1;
        int j = 0;
        for (uint32_t t = 0; t < (1u << SLICE_BITS); t++) {
            double start = 0.5 + (double)t / (double)(2u << SLICE_BITS);
            while (octave_bounds[s][j] < start)
                j++;
            slice_start[s][t] = (uint16_t)j;
        }
    }
    memset(page_kinds, VT__CELL_U64, sizeof page_kinds);
}

/* frexp for a positive finite double, from its bits (no libm call): v =
 * frac * 2^exp with frac in [0.5, 1). Subnormals take the library's way.
 * *top gets the top SLICE_BITS bits of the mantissa. */
static inline double split(double v, int *exp, uint32_t *top) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    uint64_t e = (b >> 52) & 0x7FF;
    if (VT__UNLIKELY(e == 0 || e == 0x7FF)) {
        double f = frexp(v, exp);
        *top = (uint32_t)((f - 0.5) * (double)(2u << SLICE_BITS));
        if (*top >= (1u << SLICE_BITS))
            *top = (1u << SLICE_BITS) - 1;
        return f;
    }
    *exp = (int)e - 1022;
    *top = (uint32_t)((b >> (52 - SLICE_BITS)) & ((1u << SLICE_BITS) - 1));
    b = (b & ~((uint64_t)0x7FF << 52)) | ((uint64_t)1022 << 52);
    double f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* The bucket index at schema s of frac * 2^exp, frac in [0.5, 1) with the
 * top SLICE_BITS bits of its mantissa in top: the i with
 * 2^((i-1)/2^s) < v <= 2^(i/2^s). */
static inline int32_t index_from(double frac, int exp, uint32_t top, int32_t s) {
    if (s > 0) {
        const double *b = octave_bounds[s];
        int j = slice_start[s][top];
        while (b[j] < frac) /* first j with b[j] >= frac */
            j++;
        return j + (exp - 1) * (1 << s);
    }
    int32_t key = exp;
    if (frac == 0.5)
        key--; /* an exact power of two is its bucket's upper bound */
    int32_t offset = (1 << -s) - 1;
    return (key + offset) >> -s; /* ceil(key / 2^-s), floor division on negatives */
}

/* The bucket index of v > 0 (any positive double). */
static inline int32_t index_of(double v, int32_t s) {
    int exp;
    uint32_t top;
    double frac = split(v, &exp, &top);
    return index_from(frac, exp, top, s);
}

/* The same for the bits of a positive normal double (no libm fallback, so
 * the caller stays a leaf). */
static inline int32_t index_of_normal(uint64_t b, int32_t s) {
    int exp = (int)(b >> 52) - 1022;
    uint32_t top = (uint32_t)((b >> (52 - SLICE_BITS)) & ((1u << SLICE_BITS) - 1));
    b = (b & ~((uint64_t)0x7FF << 52)) | ((uint64_t)1022 << 52);
    double frac;
    memcpy(&frac, &b, sizeof frac);
    return index_from(frac, exp, top, s);
}

int32_t vt__nh_index(double v, int32_t s) {
    return index_of(v, s);
}

/* The upper bound of bucket i at schema s. */
static double upper_bound(int32_t i, int32_t s) {
    return exp2((double)i / exp2((double)s));
}

/* Bins of a generation, per sign. */
static size_t gen_bins(const gen_t *g) {
    return (size_t)g->npages * PAGE;
}

/* Everything but the zero cell, which the caller allocates (it takes the
 * cells lock, which switch_to must not hold). */
static int gen_init(gen_t *g, int32_t schema, double zt, uint32_t zero_slot) {
    memset(g, 0, sizeof *g);
    g->schema = schema;
    g->zero_threshold = zt;
    g->zero_slot = zero_slot;
    int64_t per_octave = schema >= 0 ? (1 << schema) : 1;
    int64_t span = (int64_t)VT__NH_SPAN * per_octave;
    g->min_index = (int32_t)-span;
    g->npages = (uint32_t)((2 * span + 1 + PAGE - 1) / PAGE);
    g->last_bin = (int64_t)g->npages * PAGE - 1;
    g->pos = vt__calloc(2 * (size_t)g->npages, sizeof(nh_page_t));
    g->seen = vt__calloc(2 * (size_t)g->npages, sizeof(uint64_t)); /* 64 bins per word */
    if (!g->pos || !g->seen) {
        vt__free(g->pos);
        vt__free((void *)g->seen);
        g->pos = NULL;
        return VT_ENOMEM;
    }
    g->neg = g->pos + g->npages;
    return 0;
}

static void gen_free(gen_t *g) {
    if (!g->pos)
        return;
    for (uint32_t p = 0; p < 2 * g->npages; p++) {
        uint32_t s = atomic_load_explicit(&g->pos[p], memory_order_relaxed);
        if (s)
            vt__slots_free(s - 1, PAGE);
    }
    vt__slots_free(g->zero_slot, 1);
    vt__free(g->pos);
    vt__free((void *)g->seen);
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
    uint32_t zero;
    if (vt__slots_alloc(1, page_kinds, &zero) != 0) {
        vt__free(n);
        return NULL;
    }
    if (gen_init(&n->gens[0], c->schema, c->zero_threshold, zero) != 0) {
        vt__slots_free(zero, 1);
        vt__free(n);
        return NULL;
    }
    pthread_mutex_init(&n->mu, NULL);
    n->ngens = 1;
    atomic_init(&n->current, &n->gens[0]);
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

/* The first slot of page p of a side, allocating it on first touch; 0 when
 * out of slots or memory. Never called inside a sequence bracket: the slot
 * allocator takes the cells lock, which a scrape may hold while it waits for
 * the bracket to close. */
static uint32_t __attribute__((noinline)) page_alloc(vt__native_t *n, nh_page_t *dir) {
    uint32_t slot;
    if (vt__slots_alloc(PAGE, page_kinds, &slot) != 0)
        return 0;
    uint32_t expect = 0;
    if (!atomic_compare_exchange_strong_explicit(dir, &expect, slot + 1, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        vt__slots_free(slot, PAGE); /* another thread published this page first */
        return expect;
    }
    atomic_fetch_add_explicit(&n->published, 1, memory_order_release);
    return slot + 1;
}

static void apply_strategy(vt__native_t *n, const vt__native_cfg_t *c);

/* Count a first touch of bin `bit` (sides one after another) once per
 * generation (until a reset); past max_buckets, apply the strategy. */
static void __attribute__((noinline))
first_touch(vt__native_t *n, const vt__native_cfg_t *c, gen_t *g, size_t bit) {
    uint64_t mask = (uint64_t)1 << (bit & 63);
    if (atomic_load_explicit(&g->seen[bit >> 6], memory_order_relaxed) & mask)
        return;
    if (atomic_fetch_or_explicit(&g->seen[bit >> 6], mask, memory_order_relaxed) & mask)
        return;
    uint64_t pop = atomic_fetch_add_explicit(&g->populated, 1, memory_order_relaxed) + 1;
    if (pop > c->max_buckets)
        apply_strategy(n, c);
}

/* The sequence bracket of one observation: classic bucket, sum and native
 * bucket nb (NULL: none) of the calling thread, as one (see shard.c). */
static inline void bracket(vt__cell_t *cl, size_t bucket_cell, size_t sum_cell, vt__cell_t *nb,
                           double v) {
    uint64_t seq = atomic_load_explicit(&cl[0], memory_order_relaxed);
    atomic_store_explicit(&cl[0], seq + 1, memory_order_relaxed);
    vt__cell_t *b = &cl[bucket_cell], *s = &cl[sum_cell];
    atomic_store_explicit(b, atomic_load_explicit(b, memory_order_relaxed) + 1,
                          memory_order_release);
    double old = vt__bits_f64(atomic_load_explicit(s, memory_order_relaxed));
    atomic_store_explicit(s, vt__f64_bits(old + v), memory_order_release);
    if (VT__LIKELY(nb != NULL))
        atomic_store_explicit(nb, atomic_load_explicit(nb, memory_order_relaxed) + 1,
                              memory_order_release);
    atomic_store_explicit(&cl[0], seq + 2, memory_order_release);
}

/* Bin k of generation g for |v| = m > its zero threshold, clamped to the
 * bins it has. */
static inline int64_t bin_of(const gen_t *g, double m) {
    int64_t k = (int64_t)index_of(m, g->schema) - g->min_index;
    return k < 0 ? 0 : k > g->last_bin ? g->last_bin : k;
}

/* Every case: pages or the thread's shard to allocate, subnormal or infinite
 * values, out of memory. Allocation happens here, before the bracket. */
static void __attribute__((noinline))
observe_general(vt__native_t *n, const vt__native_cfg_t *c, gen_t *g, uint32_t slot,
                size_t bucket_cell, size_t sum_cell, double v) {
    double m = fabs(v);
    vt__cell_t *nb;
    size_t bit = SIZE_MAX;
    if (m <= g->zero_threshold) {
        nb = vt__cells(g->zero_slot);
    } else {
        int64_t k = bin_of(g, m);
        nh_page_t *dir = (v > 0 ? g->pos : g->neg) + (uint32_t)k / PAGE;
        uint32_t first = atomic_load_explicit(dir, memory_order_acquire);
        if (!first)
            first = page_alloc(n, dir);
        /* Out of slots or memory: the observation misses the native buckets. */
        nb = first ? vt__cells(first - 1 + (uint32_t)k % PAGE) : NULL;
        bit = (v > 0 ? 0 : (size_t)g->last_bin + 1) + (size_t)k;
    }
    bracket(vt__cells(slot), bucket_cell, sum_cell, nb, v);
    if (c->max_buckets && bit != SIZE_MAX)
        first_touch(n, c, g, bit);
}

/* The common case stays a leaf without a stack frame: the thread's pages
 * exist, the value is normal; anything else goes to observe_general, and a
 * first touch to first_touch, both as tail calls. */
void vt__native_observe(vt__native_t *n, const vt__native_cfg_t *c, uint32_t slot,
                        size_t bucket_cell, size_t sum_cell, double v) {
    gen_t *g = atomic_load_explicit(&n->current, memory_order_acquire);
    vt__shard_t *sh = vt__tls_shard;
    double m = fabs(v);
    uint32_t cslot;
    int64_t k = -1;
    if (VT__UNLIKELY(!sh))
        goto general;
    if (m <= g->zero_threshold) {
        cslot = g->zero_slot;
    } else {
        uint64_t bits;
        memcpy(&bits, &m, sizeof bits);
        uint64_t e = bits >> 52; /* m >= 0: no sign bit */
        if (VT__UNLIKELY(e == 0 || e == 0x7FF))
            goto general;
        k = (int64_t)index_of_normal(bits, g->schema) - g->min_index;
        k = k < 0 ? 0 : k > g->last_bin ? g->last_bin : k;
        uint64_t vb; /* the negative side's pages follow the positive side's */
        memcpy(&vb, &v, sizeof vb);
        uint32_t first = atomic_load_explicit(g->pos + (vb >> 63) * g->npages + (uint32_t)k / PAGE,
                                              memory_order_acquire);
        if (VT__UNLIKELY(!first))
            goto general;
        cslot = first - 1 + (uint32_t)k % PAGE;
    }
    vt__cell_t *np = atomic_load_explicit(&sh->dir[cslot >> VT__PAGE_SHIFT], memory_order_relaxed);
    vt__cell_t *cp = atomic_load_explicit(&sh->dir[slot >> VT__PAGE_SHIFT], memory_order_relaxed);
    if (VT__UNLIKELY(!np || !cp))
        goto general;
    bracket(cp + (slot & (VT__PAGE_CELLS - 1)), bucket_cell, sum_cell,
            np + (cslot & (VT__PAGE_CELLS - 1)), v);
    if (c->max_buckets && k >= 0) {
        size_t bit = (v > 0 ? 0 : (size_t)g->last_bin + 1) + (size_t)k;
        if (!(atomic_load_explicit(&g->seen[bit >> 6], memory_order_relaxed) &
              ((uint64_t)1 << (bit & 63))))
            first_touch(n, c, g, bit);
    }
    return;
general:
    observe_general(n, c, g, slot, bucket_cell, sum_cell, v);
}

/* ---- reading: every generation's cells, summed over the threads ---- */

/* The cell runs of every generation (zero cell first, then each published
 * page, positive side first), and where each run's totals go. */
typedef struct runs {
    vt__cell_run_t *run;
    uint32_t *gen, *page; /* per run: its generation, and its page (UINT32_MAX: zero cell) */
    size_t n, cap;
    size_t cells; /* total cells */
} runs_t;

static int runs_add(runs_t *r, uint32_t slot, uint32_t len, uint32_t gen, uint32_t page) {
    if (r->n == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 64;
        vt__cell_run_t *x = vt__realloc(r->run, nc * sizeof *x);
        if (x)
            r->run = x;
        uint32_t *gx = x ? vt__realloc(r->gen, 2 * nc * sizeof *gx) : NULL;
        if (!gx)
            return VT_ENOMEM;
        memmove(gx + nc, gx + r->cap, r->n * sizeof *gx); /* pages after gens */
        r->gen = gx;
        r->page = gx + nc;
        r->cap = nc;
    }
    r->run[r->n].slot = slot;
    r->run[r->n].len = len;
    r->gen[r->n] = gen;
    r->page[r->n] = page;
    r->n++;
    r->cells += len;
    return 0;
}

/* The reads' working memory, reused from read to read so that a scrape
 * allocates none for it: touched only with the cells lock held, which
 * serializes every read. It keeps the largest size asked for. */
static runs_t scratch_runs;
static uint64_t *scratch_cells;
static size_t scratch_cap;

/* 2 * cells u64s, the first `cells` zeroed (totals), the rest scratch for
 * vt__sum_seq_runs; NULL when out of memory. */
static uint64_t *totals_for(size_t cells) {
    if (2 * cells + 1 > scratch_cap) {
        uint64_t *p = vt__realloc(scratch_cells, (2 * cells + 1) * sizeof *p);
        if (!p)
            return NULL;
        scratch_cells = p;
        scratch_cap = 2 * cells + 1;
    }
    memset(scratch_cells, 0, cells * sizeof *scratch_cells);
    return scratch_cells;
}

static int collect_runs(vt__native_t *n, runs_t *r) {
    r->n = r->cells = 0;
    for (uint32_t i = 0; i < n->ngens; i++) {
        gen_t *g = &n->gens[i];
        if (runs_add(r, g->zero_slot, 1, i, UINT32_MAX) != 0)
            return VT_ENOMEM;
        for (uint32_t p = 0; p < 2 * g->npages; p++) {
            uint32_t first = atomic_load_explicit(&g->pos[p], memory_order_acquire);
            if (first && runs_add(r, first - 1, PAGE, i, p) != 0)
                return VT_ENOMEM;
        }
    }
    return 0;
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

/* Merge the totals of every run (see collect_runs) into the current
 * generation's buckets, minus the baselines of the last reset. */
static int merge_runs(vt__native_t *n, const runs_t *r, const uint64_t *totals, merged_t *m) {
    const uint64_t *t = totals;
    for (size_t k = 0; k < r->n; t += r->run[k].len, k++) {
        gen_t *g = &n->gens[r->gen[k]];
        uint32_t p = r->page[k];
        if (p == UINT32_MAX) {
            m->zero += t[0] - g->base_zero;
            continue;
        }
        int side = p >= g->npages; /* the negative pages follow the positive ones */
        uint32_t sp = side ? p - g->npages : p;
        const uint64_t *base = g->base_pos ? g->base_pos + (size_t)p * PAGE : NULL;
        for (uint32_t j = 0; j < PAGE; j++) {
            uint64_t c = t[j] - (base ? base[j] : 0);
            if (!c)
                continue;
            int32_t index = (int32_t)(sp * PAGE + j) + g->min_index;
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
    return 0;
}

/* With the cells lock held: read every generation's cells (and, when slot is
 * not UINT32_MAX, the series' ncells cells at slot into out_u / out_f, from
 * the same moment of each thread) and merge them into *out. */
static int read_locked(vt__native_t *n, uint32_t slot, uint32_t ncells, const uint8_t *kinds,
                       uint64_t *out_u, double *out_f, vt__nh_view_t *out) {
    memset(out, 0, sizeof *out);
    runs_t *rr = &scratch_runs, r = {0};
    uint64_t *totals = NULL;
    int rc;
    for (;;) {
        uint64_t before = atomic_load_explicit(&n->published, memory_order_acquire);
        if ((rc = collect_runs(n, rr)) != 0)
            break;
        r = *rr;
        if (!(totals = totals_for(r.cells))) {
            rc = VT_ENOMEM;
            break;
        }
        if (slot != UINT32_MAX) {
            memset(out_u, 0, ncells * sizeof *out_u);
            memset(out_f, 0, ncells * sizeof *out_f);
        }
        vt__sum_seq_runs(slot, ncells, kinds, out_u, out_f, r.run, r.n, totals, totals + r.cells);
        /* A page published meanwhile may hold observations the series cells
         * count: read again (it can only be one allocated before we took the
         * cells lock, so this ends). */
        if (atomic_load_explicit(&n->published, memory_order_acquire) == before)
            break;
    }
    if (rc == 0) {
        gen_t *cur = atomic_load_explicit(&n->current, memory_order_relaxed);
        merged_t m = {.schema = cur->schema, .zero_threshold = cur->zero_threshold};
        rc = merge_runs(n, &r, totals, &m);
        if (rc == 0) {
            out->schema = m.schema;
            out->zero_threshold = m.zero_threshold;
            out->zero_count = m.zero;
            out->npos = m.pos ? normalize(m.pos, m.npos) : 0;
            out->nneg = m.neg ? normalize(m.neg, m.nneg) : 0;
            out->pos = m.pos;
            out->neg = m.neg;
        } else {
            vt__free(m.pos);
            vt__free(m.neg);
        }
    }
    return rc;
}

int vt__native_read(vt__native_t *n, uint32_t slot, uint32_t ncells, const uint8_t *kinds,
                    uint64_t *out_u, double *out_f, vt__nh_view_t *out) {
    return read_locked(n, slot, ncells, kinds, out_u, out_f, out);
}

/* The merged buckets now, for the strategy (under n->mu, not the cells lock). */
static int snapshot_now(vt__native_t *n, vt__nh_view_t *out) {
    vt__cells_lock();
    int rc = read_locked(n, UINT32_MAX, 0, NULL, NULL, NULL, out);
    vt__cells_unlock();
    return rc;
}

void vt__nh_view_free(vt__nh_view_t *v) {
    vt__free(v->pos);
    vt__free(v->neg);
    memset(v, 0, sizeof *v);
}

/* ---- the bucket-limit strategy (under n->mu) ---- */

/* Under n->mu: record what every generation holds now as its baseline and
 * start again from the first generation. The histogram's own count and sum
 * (the classic cells) are not reset: like a counter, they only grow; the
 * native buckets restart. Baselines change under the cells lock, with the
 * totals they are taken from, so a scrape sees them together. */
static int reset(vt__native_t *n) {
    uint64_t *fresh[MAX_GENS] = {0}; /* baselines for generations without one yet */
    for (uint32_t i = 0; i < n->ngens; i++) {
        if (!n->gens[i].base_pos &&
            !(fresh[i] = vt__calloc(2 * gen_bins(&n->gens[i]), sizeof(uint64_t)))) {
            for (uint32_t k = 0; k < i; k++)
                vt__free(fresh[k]);
            return VT_ENOMEM;
        }
    }
    vt__cells_lock();
    for (uint32_t i = 0; i < n->ngens; i++)
        if (fresh[i]) { /* zero until set below, which is what they held before */
            n->gens[i].base_pos = fresh[i];
            n->gens[i].base_neg = fresh[i] + gen_bins(&n->gens[i]);
        }
    uint64_t *totals = NULL;
    int rc = collect_runs(n, &scratch_runs);
    runs_t r = scratch_runs;
    if (rc == 0 && !(totals = totals_for(r.cells)))
        rc = VT_ENOMEM;
    if (rc == 0) {
        vt__sum_seq_runs(UINT32_MAX, 0, NULL, NULL, NULL, r.run, r.n, totals, totals + r.cells);
        const uint64_t *t = totals;
        for (size_t k = 0; k < r.n; t += r.run[k].len, k++) {
            gen_t *g = &n->gens[r.gen[k]];
            if (r.page[k] == UINT32_MAX)
                g->base_zero = t[0];
            else
                memcpy(g->base_pos + (size_t)r.page[k] * PAGE, t, PAGE * sizeof *t);
        }
        for (uint32_t i = 0; i < n->ngens; i++) {
            gen_t *g = &n->gens[i];
            atomic_store_explicit(&g->populated, 0, memory_order_relaxed);
            for (size_t w = 0; w < 2 * (size_t)g->npages; w++)
                atomic_store_explicit(&g->seen[w], 0, memory_order_relaxed);
        }
        atomic_store_explicit(&n->current, &n->gens[0], memory_order_release);
    }
    vt__cells_unlock();
    return rc;
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
        uint32_t zero;
        int rc = vt__slots_alloc(1, page_kinds, &zero);
        if (rc)
            return rc;
        if ((rc = gen_init(&n->gens[n->ngens], schema, zt, zero)) != 0) {
            vt__slots_free(zero, 1);
            return rc;
        }
        vt__cells_lock(); /* scrapes read ngens under it */
        n->ngens++;
        vt__cells_unlock();
    }
    gen_t *prev = atomic_load_explicit(&n->current, memory_order_relaxed);
    atomic_store_explicit(&n->current, &n->gens[target], memory_order_release);
    vt__nh_view_t v;
    /* Without memory for the count, keep the previous generation's: merging
     * never adds buckets, so it is an overestimate and the limit holds. */
    uint64_t populated = atomic_load_explicit(&prev->populated, memory_order_relaxed);
    if (snapshot_now(n, &v) == 0) {
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
        gen_t *cur = atomic_load_explicit(&n->current, memory_order_relaxed);
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
            if (snapshot_now(n, &v) == 0) {
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
