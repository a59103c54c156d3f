/* internal.h - structures shared by the core's source files; never installed.
 *
 * Lock order, outermost first: registry rwlock -> family mutex -> cells lock
 * (shard.c). No lock is ever taken on the hot path.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CORE_INTERNAL_H
#define VT_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vitals.h"

#if defined(__GNUC__)
#define VT__LIKELY(x) __builtin_expect(!!(x), 1)
#define VT__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VT__HIDDEN __attribute__((visibility("hidden")))
#else
#define VT__LIKELY(x) (x)
#define VT__UNLIKELY(x) (x)
#define VT__HIDDEN
#endif

/* ---- allocation (alloc.c): every allocation of the library goes here ---- */
void *vt__malloc(size_t n);
void *vt__calloc(size_t count, size_t size);
void *vt__realloc(void *p, size_t n);
void vt__free(void *p);
char *vt__strdup(const char *s);

/* ---- validation (validate.c) ---- */
int vt__valid_metric_name(const char *s);
int vt__valid_label_name(const char *s);
int vt__valid_utf8(const char *s, size_t n);
/* Bytes needed to escape a label value, and the escaping itself (\\, \", \n).
 * s[n] must be the string's terminating NUL. */
size_t vt__escaped_len(const char *s, size_t n);
char *vt__escape_label(char *dst, const char *s, size_t n);

/* ---- cells (shard.c) ---- */
#define VT__PAGE_SHIFT 9
#define VT__PAGE_CELLS ((uint32_t)1 << VT__PAGE_SHIFT) /* cells per page: 4 KiB */
#define VT__DIR_PAGES 16384u                           /* pages per shard: 8 Mi cells */
#define VT__MAX_CELLS_PER_SERIES 260u
#define VT__MAX_LABELS 64 /* variable labels of one family */

typedef _Atomic uint64_t vt__cell_t;

/* A thread's shard: pages of cells only its thread writes. */
typedef struct vt__shard {
    _Atomic(vt__cell_t *) dir[VT__DIR_PAGES]; /* page table; NULL until first touch */
    void *raw[VT__DIR_PAGES];                 /* unaligned allocation behind each page */
    struct vt__shard *next;                   /* live shards list, under the cells lock */
} vt__shard_t;

extern __thread vt__shard_t *vt__tls_shard __attribute__((tls_model("initial-exec")));
vt__cell_t *vt__cell_slow(uint32_t slot);

/* The cells of slot..slot+n-1 for the calling thread (they never straddle a page). */
static inline vt__cell_t *vt__cells(uint32_t slot) {
    vt__shard_t *sh = vt__tls_shard;
    if (VT__LIKELY(sh != NULL)) {
        vt__cell_t *page =
            atomic_load_explicit(&sh->dir[slot >> VT__PAGE_SHIFT], memory_order_relaxed);
        if (VT__LIKELY(page != NULL))
            return page + (slot & (VT__PAGE_CELLS - 1));
    }
    return vt__cell_slow(slot);
}

/* Cell kinds, for folding a dead thread's shard: integers add as integers,
 * doubles as doubles, sequence cells are skipped. */
enum { VT__CELL_U64 = 0, VT__CELL_F64 = 1, VT__CELL_SEQ = 2 };

int vt__slots_alloc(uint32_t n, const uint8_t *kinds, uint32_t *out_slot);
void vt__slots_free(uint32_t slot, uint32_t n);
void vt__cells_lock(void);
void vt__cells_unlock(void);
/* With the cells lock held: the total of a cell over every shard. */
uint64_t vt__sum_u64(uint32_t slot);
double vt__sum_f64(uint32_t slot);
/* With the cells lock held: a consistent snapshot of n cells at slot whose
 * first cell is a sequence cell; u64 cells added into out_u[i], f64 cells into
 * out_f[i] (index i is the cell offset from slot). */
void vt__sum_seq(uint32_t slot, uint32_t n, const uint8_t *kinds, uint64_t *out_u, double *out_f);
/* A run of u64 cells that a series' writers update inside its sequence
 * bracket although they lie elsewhere (native histogram buckets). */
typedef struct vt__cell_run {
    uint32_t slot, len;
} vt__cell_run_t;
/* With the cells lock held: vt__sum_seq, and from the same consistent moment
 * of each thread the totals of the runs' cells, added into out_runs (the
 * runs' cells one after another). scratch has room for as many cells. With
 * slot UINT32_MAX there are no series cells and no sequence: plain totals. */
void vt__sum_seq_runs(uint32_t slot, uint32_t n, const uint8_t *kinds, uint64_t *out_u,
                      double *out_f, const vt__cell_run_t *runs, size_t nruns, uint64_t *out_runs,
                      uint64_t *scratch);

static inline double vt__bits_f64(uint64_t b) {
    union {
        uint64_t u;
        double d;
    } x = {.u = b};
    return x.d;
}
static inline uint64_t vt__f64_bits(double d) {
    union {
        double d;
        uint64_t u;
    } x = {.d = d};
    return x.u;
}

/* ---- families and series (family.c) ---- */
/* An exemplar (OpenMetrics): the labels of the latest traced observation. */
typedef struct vt__exemplar {
    char *text;        /* rendered labels, len bytes; NULL until the first */
    uint32_t len, cap; /* bytes used and allocated */
    double value, ts;  /* the observed value; Unix seconds when recorded */
} vt__exemplar_t;

/* ---- summary quantiles (quantile.c) ---- */
typedef struct vt__sketch vt__sketch_t;
typedef struct vt__sketch_cfg {
    double gamma;          /* bin ratio (1 + a) / (1 - a) for relative error a */
    double inv_log_gamma;  /* 1 / log(gamma) */
    int32_t min_index;     /* bin index of the smallest magnitude kept */
    uint32_t npages;       /* pages of 64 bins per sign and age slice */
    uint32_t ages;         /* slices of the window */
    uint64_t slice_ns;     /* window / ages */
    double inv_slice_ns;   /* 1 / slice_ns: the epoch of a time is a product */
    double inv_log2_gamma; /* 1 / log2(gamma) */
    double *bounds;        /* upper bound gamma^(k + min_index) of each bin k, or NULL (too many) */
    uint64_t (*clock)(void *ud); /* monotonic nanoseconds */
    void *clock_ud;
    size_t nq; /* objectives */
    double *q;
} vt__sketch_cfg_t;

int vt__sketch_cfg_init(vt__sketch_cfg_t *c, const vt_metric_opts_t *o);
void vt__sketch_cfg_cleanup(vt__sketch_cfg_t *c);
vt__sketch_t *vt__sketch_new(const vt__sketch_cfg_t *c);
void vt__sketch_free(vt__sketch_t *s, const vt__sketch_cfg_t *c);
void vt__sketch_add(vt__sketch_t *s, const vt__sketch_cfg_t *c, double v);
/* The objectives' values now (NaN for an empty window) into out[nq]. */
void vt__sketch_quantiles(vt__sketch_t *s, const vt__sketch_cfg_t *c, double *out);

/* ---- native histograms (native.c) ---- */
#define VT__NH_SPAN 64 /* octaves each side of 1 with buckets of their own */
typedef struct vt__native vt__native_t;
typedef struct vt__native_cfg {
    int32_t schema;              /* initial schema, -4..8 */
    double zero_threshold;       /* initial zero threshold */
    double max_zero_threshold;   /* widen up to this; 0 never */
    uint32_t max_buckets;        /* populated buckets before the strategy; 0 no limit */
    uint64_t min_reset_ns;       /* reset when this long since the last; 0 never */
    uint64_t (*clock)(void *ud); /* monotonic ns; NULL for CLOCK_MONOTONIC */
    void *clock_ud;
} vt__native_cfg_t;
typedef vt_native_bucket_t vt__nh_bucket_t; /* the public type (vitals/visit.h) */
typedef struct vt__nh_view {
    int32_t schema;
    double zero_threshold;
    uint64_t zero_count;
    vt__nh_bucket_t *pos, *neg; /* sorted by index, counts > 0 */
    size_t npos, nneg;
} vt__nh_view_t;
int32_t vt__nh_schema_for_factor(double factor);
void vt__nh_init(void); /* before vt__nh_index; vt__native_new calls it */
int32_t vt__nh_index(double v, int32_t schema);
vt__native_t *vt__native_new(const vt__native_cfg_t *c);
void vt__native_free(vt__native_t *n);
/* One observation: the classic bucket cell and the sum cell of the series'
 * cells at slot, and the native bucket, in one sequence bracket. */
void vt__native_observe(vt__native_t *n, const vt__native_cfg_t *c, uint32_t slot,
                        size_t bucket_cell, size_t sum_cell, double v);
/* With the cells lock held: the series' ncells cells at slot (as vt__sum_seq
 * into out_u / out_f) and its native buckets, from one moment of each thread:
 * the count the cells give equals the view's zero count plus its buckets. */
int vt__native_read(vt__native_t *n, uint32_t slot, uint32_t ncells, const uint8_t *kinds,
                    uint64_t *out_u, double *out_f, vt__nh_view_t *out);
void vt__nh_view_free(vt__nh_view_t *v);

/* What few series need, allocated on first use under the family mutex and
 * never freed before the series. */
struct vt__series_ext {
    vt_value_fn fn; /* scrape-time value, or NULL (read and written under the family mutex) */
    void *user_data;
    pthread_mutex_t ex_mu; /* guards ex and every exemplar in it */
    vt__exemplar_t *ex;    /* one per histogram bucket, or one for a counter; NULL until used */
    uint32_t nex;
    vt__sketch_t *sketch; /* summaries with objectives: set before the series is published */
    vt__native_t *native; /* native histograms: set before the series is published */
};

/* A series. Never freed before its family: a deleted series moves to the
 * family's zombie list and its handle stays writable. */
typedef struct vt__series {
    struct vt_family *fam;
    _Atomic(struct vt__series_ext *) ext; /* callback, set once, then only its fields change */
    union {
        uint32_t slot;          /* first cell: counters, histograms, summaries */
        _Atomic uint64_t gauge; /* gauge value as double bits */
    } u;
    union {
        double created; /* live: Unix seconds when bound (read under the family mutex) */
        struct vt__series *zombie_next; /* removed: the next removed series */
    } z;
    uint32_t hash;           /* hash of the label values */
    uint32_t text_len;       /* bytes of text[] (no terminating NUL) */
    _Atomic uint8_t deleted; /* 1 once removed from the exposition */
    uint8_t escaped;         /* the text holds an escape sequence */
    uint32_t dir_index;      /* index in the family's directory */
    char text[];             /* rendered labels: const labels then ours, escaped, no braces */
} vt__series_t;

#define VT__CHUNK 256u

typedef struct vt__table {
    uint32_t mask;
    _Atomic uint32_t idx[]; /* 0 empty, UINT32_MAX tombstone, else directory index + 1 */
} vt__table_t;

struct vt_family {
    vt_type_t type;
    char *name; /* family name: counters without "_total", info without "_info" */
    char *help; /* never NULL */
    char *unit; /* NULL when none */
    size_t nlabels;
    char **label_names;
    size_t *label_lens; /* strlen of each label name */
    char **prefixes;    /* what precedes label i's value in a series' text: `,name="` */
    size_t *prefix_lens;
    char *const_text; /* rendered const labels, or "" */
    size_t const_len;
    size_t max_series;
    double created;

    uint64_t gen;    /* unique among all families ever created in the process */
    int bind_cached; /* binds go through the per-thread cache (bind_cache.h) */

    size_t nbounds; /* histogram: finite bounds; bucket nbounds is +Inf */
    double *bounds;
    char **le_text; /* "0.005" ... "+Inf" (nbounds + 1) */
    char **le_om;   /* canonical OpenMetrics form */
    uint32_t ncells;
    uint8_t *cell_kinds;

    pthread_mutex_t mu; /* serializes binding, removal and snapshots */
    _Atomic(vt__table_t *) table;
    struct vt__oldtable *old_tables;
    uint32_t table_used; /* non-empty entries, tombstones included */
    _Atomic(_Atomic(vt__series_t *) *) *chunks;
    size_t nchunks;
    uint32_t dir_len; /* directory indexes handed out (some may be free) */
    uint32_t *free_idx;
    size_t nfree, free_cap;
    size_t nlive;
    vt__series_t *zombies; /* removed series, kept for their handles */
    vt__series_t *overflow;

    _Atomic uint64_t overflowed;       /* binds that landed in the overflow series */
    _Atomic uint64_t err_negative;     /* negative counter adds */
    _Atomic uint64_t err_nan;          /* NaN adds or observations */
    _Atomic uint64_t err_callback;     /* bad counter callback values */
    _Atomic(struct vt_registry *) reg; /* where it is registered, or NULL */
    struct vt_family *next;            /* registry list, under the registry lock */

    _Atomic uint32_t readers; /* scrapes holding this family's series (set under mu) */
    vt__sketch_cfg_t *sketch; /* summaries with objectives, else NULL */
    vt__native_cfg_t *native; /* native histograms, else NULL */
    /* info metrics keep their one series here */
    vt__series_t *info_series;
};

int vt__family_create(vt_registry_t *reg, vt_type_t type, const vt_metric_opts_t *opts,
                      struct vt_family **out);
/* Checks every rule of a family's metadata; 0 or the VT_E* code to return. */
int vt__check_meta(vt_type_t type, const char *name, const char *help, const char *unit,
                   const char *const *labels, const char *const *const_labels);
int vt__family_with(struct vt_family *f, const char *const *values, vt__series_t **out);
/* The hash a bind computes for these values (tests use it to build
 * collisions); 0 or VT_ELABELCOUNT. */
int vt__family_hash(struct vt_family *f, const char *const *values, uint32_t *out_hash);
/* With the family mutex held and no scrape reading the family (readers 0):
 * free the removed series. Only for families that hand out no handles (info). */
void vt__family_free_zombies(struct vt_family *f);
/* With the family mutex held: take one live series out of the exposition. */
void vt__family_drop(struct vt_family *f, vt__series_t *s);
/* Directory entry i, or NULL (lock-free). */
vt__series_t *vt__family_at(struct vt_family *f, uint32_t i);
double vt__now_unix(void);

/* ---- extensions and exemplars (exemplar.c) ---- */
/* The series' extension, created on first call; NULL when out of memory. */
struct vt__series_ext *vt__series_ext(vt__series_t *s);
void vt__series_ext_free(struct vt__series_ext *e, const struct vt_family *f);
/* Record an exemplar in slot `which` of `nslots` (a bucket, or 0 for a counter).
 * Returns 0, VT_ELABELNAME, VT_EUTF8, VT_ELIMIT (over 128 code points),
 * VT_ELABELCOUNT or VT_ENOMEM. */
int vt__exemplar_store(vt__series_t *s, uint32_t which, uint32_t nslots, double v,
                       const char *const *names, const char *const *values);

typedef struct vt__exemplar_view {
    const char *text; /* rendered labels; len 0 means no exemplar */
    size_t len;
    double value, ts;
} vt__exemplar_view_t;

/* ---- exposition (expose.c, format.c) ---- */
typedef struct vt__series_view {
    const char *labels; /* rendered labels without braces; may be "" */
    size_t labels_len;
    double value;            /* counter, gauge, untyped, info */
    int value_is_count;      /* counter: the value is exactly count (integer adds only) */
    double created;          /* Unix seconds, or NaN when unknown */
    uint64_t count;          /* histogram, summary */
    double sum;              /* histogram, summary */
    const uint64_t *buckets; /* histogram: cumulative, nbounds + 1 entries */
    size_t nquantiles;
    const double *quantiles, *qvalues;
    const vt__exemplar_view_t *ex; /* counter: 1; histogram: one per bucket; or NULL */
    size_t nex;
    const vt__nh_view_t *native; /* native histogram buckets, when the target wants them */
} vt__series_view_t;

typedef struct vt__family_view {
    vt_type_t type;
    const char *name; /* family name as in vt_family */
    const char *help;
    const char *unit;
    size_t nbounds;
    const char *const *le_text;
    const char *const *le_om;
} vt__family_view_t;

/* Where a scrape sends finished families: a format writer or a sample matcher. */
typedef struct vt__target {
    int (*family)(struct vt__target *t, const vt__family_view_t *fv, const vt__series_view_t *sv,
                  size_t n);
    int wants_native; /* fill series views' native buckets (protobuf-style targets) */
} vt__target_t;

typedef struct vt__out {
    vt__target_t target;
    vt_sink_fn sink;
    void *user_data;
    int format;  /* vt_format_t */
    int created; /* write _created samples (OpenMetrics) */
    int err;
    size_t len;
    char buf[65536];
} vt__out_t;

void vt__out_init(vt__out_t *o, const vt_write_opts_t *opts, vt_sink_fn sink, void *ud);
int vt__out_finish(vt__out_t *o);
int vt__registry_visit(vt_registry_t *reg, vt__target_t *t);
/* The names a family writes, for duplicate checks; fills up to 6 names. */
size_t vt__sample_names(vt_type_t type, const char *name, char out[][256]);

/* ---- collectors (collector.c) ---- */
struct vt__scrape_names;
int vt__run_collector(vt_collect_fn fn, void *ud, vt__target_t *t, struct vt_registry *reg,
                      const struct vt_collector *self, struct vt__scrape_names *seen);
int vt__visit_family(struct vt_family *f, vt__target_t *t);
void vt__registry_count_collector_error(struct vt_registry *reg);
/* With the registry lock held: may a collector family (type, name) be
 * written in this scrape? 1 when a registered family, a self-metric, another
 * collector's declared name or a family already written this scrape uses one
 * of its sample names; otherwise 0, and the names are remembered in seen. */
int vt__registry_claim(struct vt_registry *reg, const struct vt_collector *self,
                       struct vt__scrape_names *seen, vt_type_t type, const char *name);

#endif
