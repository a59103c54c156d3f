/* metrics.c - typed families and the hot path: counters, gauges, histograms,
 * summaries, info.
 *
 * Hot-path rules (see shard.c for the memory-order argument): a counter,
 * histogram or summary update touches only the calling thread's cells, with a
 * relaxed load and a relaxed store per cell; histograms and summaries bracket
 * their update with the series' sequence cell. Gauges are one shared atomic
 * double: set is a store, add a compare-and-swap loop. Nothing here locks,
 * allocates (after a thread's first touch of a page) or fails.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define FAM(x) ((struct vt_family *)(x))
#define SER(x) ((vt__series_t *)(x))

/* ---- creation ---- */

static int create(vt_registry_t *reg, vt_type_t type, const char *name, const char *help,
                  const char *const *labels, const double *buckets, size_t nb, void **out) {
    vt_metric_opts_t o;
    vt_metric_opts_init(&o);
    o.name = name;
    o.help = help;
    o.label_names = labels;
    o.buckets = buckets;
    o.bucket_count = nb;
    if (!out)
        return VT_EINVAL;
    return vt__family_create(reg, type, &o, (struct vt_family **)out);
}

int vt_counter_create(vt_registry_t *reg, const char *name, const char *help,
                      const char *const *labels, vt_counter_t **out) {
    return create(reg, VT_COUNTER, name, help, labels, NULL, 0, (void **)out);
}
int vt_gauge_create(vt_registry_t *reg, const char *name, const char *help,
                    const char *const *labels, vt_gauge_t **out) {
    return create(reg, VT_GAUGE, name, help, labels, NULL, 0, (void **)out);
}
int vt_histogram_create(vt_registry_t *reg, const char *name, const char *help,
                        const char *const *labels, const double *buckets, size_t nb,
                        vt_histogram_t **out) {
    return create(reg, VT_HISTOGRAM, name, help, labels, buckets, nb, (void **)out);
}
int vt_summary_create(vt_registry_t *reg, const char *name, const char *help,
                      const char *const *labels, vt_summary_t **out) {
    return create(reg, VT_SUMMARY, name, help, labels, NULL, 0, (void **)out);
}

int vt_counter_create_opts(vt_registry_t *reg, const vt_metric_opts_t *o, vt_counter_t **out) {
    return vt__family_create(reg, VT_COUNTER, o, (struct vt_family **)out);
}
int vt_gauge_create_opts(vt_registry_t *reg, const vt_metric_opts_t *o, vt_gauge_t **out) {
    return vt__family_create(reg, VT_GAUGE, o, (struct vt_family **)out);
}
int vt_histogram_create_opts(vt_registry_t *reg, const vt_metric_opts_t *o, vt_histogram_t **out) {
    return vt__family_create(reg, VT_HISTOGRAM, o, (struct vt_family **)out);
}
int vt_summary_create_opts(vt_registry_t *reg, const vt_metric_opts_t *o, vt_summary_t **out) {
    return vt__family_create(reg, VT_SUMMARY, o, (struct vt_family **)out);
}

int vt_info_create(vt_registry_t *reg, const char *name, const char *help,
                   const char *const *labels, const char *const *values, vt_info_t **out) {
    if (!out)
        return VT_EINVAL;
    struct vt_family *f;
    int rc = create(NULL, VT_INFO, name, help, labels, NULL, 0, (void **)&f);
    if (rc)
        return rc;
    if ((rc = vt_info_set((vt_info_t *)f, values)) != 0 ||
        (reg && (rc = vt_registry_register(reg, f)) != 0)) {
        vt_family_destroy(f);
        return rc;
    }
    *out = (vt_info_t *)f;
    return 0;
}

int vt_info_set(vt_info_t *info, const char *const *values) {
    struct vt_family *f = FAM(info);
    if (!f || f->type != VT_INFO)
        return VT_EINVAL;
    vt__series_t *s;
    int rc = vt__family_with(f, values, &s);
    if (rc)
        return rc;
    /* Keep only the new label set. */
    pthread_mutex_lock(&f->mu);
    vt__series_t *old = f->info_series != s ? f->info_series : NULL;
    f->info_series = s;
    if (old && !atomic_load_explicit(&old->deleted, memory_order_relaxed)) /* not removed */
        vt__family_drop(f, old);
    /* No handle to an info series is ever given out: once no scrape holds the
     * family, replaced series can go, so repeated vt_info_set never piles up. */
    if (atomic_load_explicit(&f->readers, memory_order_acquire) == 0)
        vt__family_free_zombies(f);
    pthread_mutex_unlock(&f->mu);
    return 0;
}

vt_family_t *vt_counter_family(vt_counter_t *c) {
    return FAM(c);
}
vt_family_t *vt_gauge_family(vt_gauge_t *g) {
    return FAM(g);
}
vt_family_t *vt_histogram_family(vt_histogram_t *h) {
    return FAM(h);
}
vt_family_t *vt_summary_family(vt_summary_t *s) {
    return FAM(s);
}
vt_family_t *vt_info_family(vt_info_t *i) {
    return FAM(i);
}

/* ---- binding ---- */

static int with(void *fam, vt_type_t type, const char *const *values, void **out) {
    if (!fam || FAM(fam)->type != type || !out)
        return VT_EINVAL;
    return vt__family_with(FAM(fam), values, (vt__series_t **)out);
}

int vt_counter_with(vt_counter_t *c, const char *const *v, vt_counter_series_t **out) {
    return with(c, VT_COUNTER, v, (void **)out);
}
int vt_gauge_with(vt_gauge_t *g, const char *const *v, vt_gauge_series_t **out) {
    return with(g, VT_GAUGE, v, (void **)out);
}
int vt_histogram_with(vt_histogram_t *h, const char *const *v, vt_histogram_series_t **out) {
    return with(h, VT_HISTOGRAM, v, (void **)out);
}
int vt_summary_with(vt_summary_t *s, const char *const *v, vt_summary_series_t **out) {
    return with(s, VT_SUMMARY, v, (void **)out);
}

/* ---- hot path ---- */

static inline void cell_add_u64(vt__cell_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void cell_add_f64(vt__cell_t *c, double v) {
    double old = vt__bits_f64(atomic_load_explicit(c, memory_order_relaxed));
    atomic_store_explicit(c, vt__f64_bits(old + v), memory_order_relaxed);
}

void vt_counter_inc(vt_counter_series_t *s) {
    cell_add_u64(vt__cells(SER(s)->u.slot), 1);
}

void vt_counter_add_u64(vt_counter_series_t *s, uint64_t n) {
    cell_add_u64(vt__cells(SER(s)->u.slot), n);
}

void vt_counter_add(vt_counter_series_t *s, double v) {
    if (VT__UNLIKELY(!(v >= 0))) {
        struct vt_family *f = SER(s)->fam;
        atomic_fetch_add_explicit(isnan(v) ? &f->err_nan : &f->err_negative, 1,
                                  memory_order_relaxed);
        return;
    }
    cell_add_f64(vt__cells(SER(s)->u.slot) + 1, v);
}

static inline void gauge_add(vt_gauge_series_t *g, double v) {
    _Atomic uint64_t *a = &SER(g)->u.gauge;
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, vt__f64_bits(vt__bits_f64(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

void vt_gauge_set(vt_gauge_series_t *g, double v) {
    atomic_store_explicit(&SER(g)->u.gauge, vt__f64_bits(v), memory_order_relaxed);
}
void vt_gauge_inc(vt_gauge_series_t *g) {
    gauge_add(g, 1.0);
}
void vt_gauge_dec(vt_gauge_series_t *g) {
    gauge_add(g, -1.0);
}
void vt_gauge_add(vt_gauge_series_t *g, double v) {
    gauge_add(g, v);
}
void vt_gauge_sub(vt_gauge_series_t *g, double v) {
    gauge_add(g, -v);
}
void vt_gauge_set_to_current_time(vt_gauge_series_t *g) {
    vt_gauge_set(g, vt__now_unix());
}

/* The first bucket whose bound is >= v; nbounds for +Inf. Linear below 32
 * bounds (branch-light, cache-resident), binary search above. */
static inline size_t bucket_of(const double *b, size_t n, double v) {
    if (n <= 32) {
        size_t i = 0;
        while (i < n && v > b[i])
            i++;
        return i;
    }
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v > b[mid])
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* One observation: bucket cell and sum, inside the sequence bracket. The
 * data stores are release stores, so a scrape that sees one of them also sees
 * the odd sequence number stored before it (see shard.c). On x86 and ARMv8
 * these are plain stores. */
static inline void seq_observe(uint32_t slot, size_t bucket_cell, size_t sum_cell, double v) {
    vt__cell_t *c = vt__cells(slot);
    uint64_t seq = atomic_load_explicit(&c[0], memory_order_relaxed);
    atomic_store_explicit(&c[0], seq + 1, memory_order_relaxed);
    vt__cell_t *b = &c[bucket_cell], *s = &c[sum_cell];
    atomic_store_explicit(b, atomic_load_explicit(b, memory_order_relaxed) + 1,
                          memory_order_release);
    double old = vt__bits_f64(atomic_load_explicit(s, memory_order_relaxed));
    atomic_store_explicit(s, vt__f64_bits(old + v), memory_order_release);
    atomic_store_explicit(&c[0], seq + 2, memory_order_release);
}

/* The rare cases, kept out of line so that the classic observe stays a leaf
 * function without a stack frame. */
static void __attribute__((noinline)) observe_slow(vt_histogram_series_t *h, double v) {
    struct vt_family *f = SER(h)->fam;
    if (isnan(v)) {
        atomic_fetch_add_explicit(&f->err_nan, 1, memory_order_relaxed);
        return;
    }
    size_t b = bucket_of(f->bounds, f->nbounds, v);
    /* Native buckets were set before the handle existed; they share the
     * classic cells' sequence bracket (native.c). */
    vt__native_observe(atomic_load_explicit(&SER(h)->ext, memory_order_relaxed)->native, f->native,
                       SER(h)->u.slot, 1 + b, f->nbounds + 2, v);
}

void vt_histogram_observe(vt_histogram_series_t *h, double v) {
    struct vt_family *f = SER(h)->fam;
    if (VT__UNLIKELY(isnan(v) || f->native)) {
        observe_slow(h, v);
        return;
    }
    size_t b = bucket_of(f->bounds, f->nbounds, v);
    seq_observe(SER(h)->u.slot, 1 + b, f->nbounds + 2, v);
}

int vt_histogram_set_native_clock(vt_histogram_t *hist, uint64_t (*now_ns)(void *user_data),
                                  void *user_data) {
    struct vt_family *f = FAM(hist);
    if (!f || f->type != VT_HISTOGRAM || !now_ns)
        return VT_EINVAL;
    if (!f->native)
        return VT_ESTATE;
    f->native->clock = now_ns;
    f->native->clock_ud = user_data;
    return 0;
}

void vt_summary_observe(vt_summary_series_t *s, double v) {
    struct vt_family *f = SER(s)->fam;
    if (VT__UNLIKELY(isnan(v))) {
        atomic_fetch_add_explicit(&f->err_nan, 1, memory_order_relaxed);
        return;
    }
    seq_observe(SER(s)->u.slot, 1, 2, v);
    if (f->sketch) /* its sketch was set before the handle existed */
        vt__sketch_add(atomic_load_explicit(&SER(s)->ext, memory_order_relaxed)->sketch, f->sketch,
                       v);
}

int vt_summary_set_clock(vt_summary_t *sum, uint64_t (*now_ns)(void *user_data), void *user_data) {
    struct vt_family *f = FAM(sum);
    if (!f || f->type != VT_SUMMARY || !now_ns)
        return VT_EINVAL;
    if (!f->sketch)
        return VT_ESTATE;
    f->sketch->clock = now_ns;
    f->sketch->clock_ud = user_data;
    return 0;
}

/* ---- reading back ---- */

double vt_counter_get(vt_counter_series_t *s) {
    if (!s)
        return 0;
    vt__cells_lock();
    double v = (double)vt__sum_u64(SER(s)->u.slot) + vt__sum_f64(SER(s)->u.slot + 1);
    vt__cells_unlock();
    return v;
}

double vt_gauge_get(vt_gauge_series_t *g) {
    return g ? vt__bits_f64(atomic_load_explicit(&SER(g)->u.gauge, memory_order_relaxed)) : 0;
}

static void seq_get(vt__series_t *s, uint64_t *out_count, double *out_sum) {
    struct vt_family *f = s->fam;
    uint64_t u[VT__MAX_CELLS_PER_SERIES] = {0};
    double d[VT__MAX_CELLS_PER_SERIES] = {0};
    vt__cells_lock();
    vt__sum_seq(s->u.slot, f->ncells, f->cell_kinds, u, d);
    vt__cells_unlock();
    uint64_t count = 0;
    for (uint32_t i = 1; i + 1 < f->ncells; i++)
        count += u[i];
    if (out_count)
        *out_count = count;
    if (out_sum)
        *out_sum = d[f->ncells - 1];
}

void vt_histogram_get(vt_histogram_series_t *h, uint64_t *out_count, double *out_sum) {
    if (h)
        seq_get(SER(h), out_count, out_sum);
}
void vt_summary_get(vt_summary_series_t *s, uint64_t *out_count, double *out_sum) {
    if (s)
        seq_get(SER(s), out_count, out_sum);
}

/* ---- callbacks ---- */

static int set_callback(vt__series_t *s, vt_value_fn fn, void *ud) {
    if (!s)
        return VT_EINVAL;
    struct vt__series_ext *e = vt__series_ext(s);
    if (!e)
        return VT_ENOMEM;
    pthread_mutex_lock(&s->fam->mu);
    e->fn = fn;
    e->user_data = ud;
    pthread_mutex_unlock(&s->fam->mu);
    return 0;
}

int vt_counter_set_callback(vt_counter_series_t *s, vt_value_fn fn, void *ud) {
    return set_callback(SER(s), fn, ud);
}
int vt_gauge_set_callback(vt_gauge_series_t *s, vt_value_fn fn, void *ud) {
    return set_callback(SER(s), fn, ud);
}

/* ---- exemplars ---- */

int vt_counter_add_exemplar(vt_counter_series_t *s, double v, const char *const *label_names,
                            const char *const *label_values) {
    if (!s)
        return VT_EINVAL;
    vt_counter_add(s, v);
    if (!(v >= 0))
        return VT_ERANGE;
    return vt__exemplar_store(SER(s), 0, 1, v, label_names, label_values);
}

int vt_histogram_observe_exemplar(vt_histogram_series_t *h, double v,
                                  const char *const *label_names, const char *const *label_values) {
    if (!h)
        return VT_EINVAL;
    vt_histogram_observe(h, v);
    if (isnan(v))
        return VT_ERANGE;
    struct vt_family *f = SER(h)->fam;
    size_t b = bucket_of(f->bounds, f->nbounds, v);
    return vt__exemplar_store(SER(h), (uint32_t)b, (uint32_t)f->nbounds + 1, v, label_names,
                              label_values);
}
