/* family.c - metric families: creation, label binding, removal, destruction.
 *
 * Invariants of a family, all changed only under its mutex:
 * - Every live series is in the directory (chunks[]) at its dir_index and in
 *   the hash table under its label values; removed series are in neither and
 *   sit on the zombie list until the family is destroyed.
 * - The hash table maps a label-value hash to directory index + 1. Growing
 *   replaces it with one twice the size and keeps the old one until the family
 *   is destroyed (a lock-free reader may still be probing it); dropping
 *   tombstones and clearing happen in place, so churn keeps no old tables.
 * - A lock-free lookup may see a stale or half-rehashed table or a reused
 *   directory entry; it only ever answers with a series whose label values
 *   equal the ones asked for (exact compare), and a miss always retries under
 *   the mutex.
 * - A removed series is flagged deleted (under the mutex) before removal
 *   returns, and no series is freed before its family except an info
 *   family's: the per-thread bind cache (bind_cache.c), which binds consult
 *   first, relies on both and skips info families.
 * - The table is at most half full, tombstones included.
 * - nlive counts live series, the overflow series excluded; at most max_series.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bind_cache.h"
#include "fmt_double.h"
#include "internal.h"

#define TOMBSTONE UINT32_MAX

struct vt__oldtable {
    vt__table_t *table;
    struct vt__oldtable *next;
};

double vt__now_unix(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const double default_buckets[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

const double *vt_buckets_default(size_t *out_count) {
    if (out_count)
        *out_count = sizeof default_buckets / sizeof default_buckets[0];
    return default_buckets;
}

int vt_buckets_linear(double start, double width, size_t count, double *out) {
    if (!out || count == 0 || !isfinite(start) || !(width > 0) || !isfinite(width))
        return VT_EINVAL;
    for (size_t i = 0; i < count; i++) {
        double v = start + width * (double)i;
        if (!isfinite(v))
            return VT_EINVAL;
        out[i] = v;
    }
    return 0;
}

int vt_buckets_exponential(double start, double factor, size_t count, double *out) {
    if (!out || count == 0 || !(start > 0) || !isfinite(start) || !(factor > 1) ||
        !isfinite(factor))
        return VT_EINVAL;
    double v = start;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(v))
            return VT_EINVAL;
        out[i] = v;
        v *= factor;
    }
    return 0;
}

void vt_metric_opts_init(vt_metric_opts_t *o) {
    if (o)
        memset(o, 0, sizeof *o);
}

static size_t count_list(const char *const *l) {
    size_t n = 0;
    while (l && l[n])
        n++;
    return n;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Label lookups work on the values as given: one strlen per value, and for
 * values of up to 16 bytes two words that, with the length, determine the
 * value; nothing is rendered. The hash covers each value's length and bytes,
 * so it identifies the label set. A series whose text needed no escaping
 * holds each value verbatim between its prefix `,name="` and a closing quote
 * that is the first quote after the prefix, so a value of length n matches
 * when a quote follows the n bytes there and their words equal the value's.
 * A series with escapes compares through the escaping (slow path). */
typedef struct lookup {
    size_t n[VT__MAX_LABELS];      /* strlen of each value */
    uint64_t w[VT__MAX_LABELS][2]; /* values of up to 16 bytes: their words (see words()) */
    uint32_t hash;
} lookup_t;

static inline uint64_t mix64(uint64_t h, uint64_t x) {
    h = (h ^ x) * 0x9E3779B97F4A7C15u;
    return h ^ (h >> 29);
}

static inline uint64_t load8(const char *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static inline uint64_t load4(const char *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

/* Two words that, with n <= 16, determine the n bytes at p: overlapping
 * loads that never read past p + n (for n < 4, bytes 0, n/2 and n-1). */
static inline void words(const char *p, size_t n, uint64_t w[2]) {
    if (n > 8) {
        w[0] = load8(p);
        w[1] = load8(p + n - 8);
    } else if (n >= 4) {
        w[0] = load4(p) | load4(p + n - 4) << 32;
        w[1] = 0;
    } else {
        w[0] = n ? (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
                       (uint64_t)(unsigned char)p[n - 1] << 16
                 : 0;
        w[1] = 0;
    }
}

/* Measure and hash the values and check their count: 0 or VT_ELABELCOUNT. */
static inline int key_make(const struct vt_family *f, const char *const *values, lookup_t *k) {
    uint64_t h = 0x2545F4914F6CDD1Du;
    size_t nl = f->nlabels;
    for (size_t i = 0; i < nl; i++) {
        const char *v = values[i];
        if (VT__UNLIKELY(!v))
            return VT_ELABELCOUNT;
        size_t n = strlen(v);
        k->n[i] = n;
        h ^= n;
        if (VT__LIKELY(n <= 16)) {
            words(v, n, k->w[i]);
            h = mix64(h, k->w[i][0] ^ k->w[i][1] * 0xC2B2AE3D27D4EB4Fu);
        } else {
            for (size_t j = 0; j + 8 < n; j += 8)
                h = mix64(h, load8(v + j));
            h = mix64(h, load8(v + n - 8));
        }
    }
    if (VT__UNLIKELY(values[nl] != NULL))
        return VT_ELABELCOUNT;
    k->hash = (uint32_t)(h ^ (h >> 32));
    return 0;
}

static void family_free(struct vt_family *f);

static int check_label_name(vt_type_t type, const char *n) {
    if (!vt__valid_label_name(n))
        return VT_ELABELNAME;
    if (n[0] == '_' && n[1] == '_')
        return VT_ERESERVED;
    if (type == VT_HISTOGRAM && strcmp(n, "le") == 0)
        return VT_ERESERVED;
    if (type == VT_SUMMARY && strcmp(n, "quantile") == 0)
        return VT_ERESERVED;
    return 0;
}

static char *render_pair(char *d, const char *name, const char *value) {
    size_t nl = strlen(name);
    memcpy(d, name, nl);
    d += nl;
    *d++ = '=';
    *d++ = '"';
    d = vt__escape_label(d, value, strlen(value));
    *d++ = '"';
    return d;
}

static int set_buckets(struct vt_family *f, const vt_metric_opts_t *o) {
    const double *b = o->buckets;
    size_t n = o->bucket_count;
    if ((!b || n == 0) && f->native)
        n = 0; /* native only: the classic side is just +Inf (count) and sum */
    else if (!b || n == 0)
        b = vt_buckets_default(&n);
    if (n > 0 && isinf(b[n - 1]) && b[n - 1] > 0)
        n--; /* an explicit +Inf is implied anyway */
    /* At most 256 finite bounds, as documented (their n + 3 cells fit a series). */
    if (n > 256)
        return VT_ELIMIT;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(b[i]) || (i > 0 && !(b[i] > b[i - 1])))
            return VT_EBUCKETS;
    f->nbounds = n;
    f->bounds = vt__calloc(n ? n : 1, sizeof(double));
    f->le_text = vt__calloc(n + 1, sizeof(char *));
    f->le_om = vt__calloc(n + 1, sizeof(char *));
    if (!f->bounds || !f->le_text || !f->le_om)
        return VT_ENOMEM;
    for (size_t i = 0; i <= n; i++) {
        char buf[VT_DOUBLE_BUFSZ];
        if (i < n) {
            f->bounds[i] = b[i];
            vt_format_double(b[i], buf);
        } else
            strcpy(buf, "+Inf");
        f->le_text[i] = vt__strdup(buf);
        if (i < n)
            vt__format_om_canonical(b[i], buf);
        f->le_om[i] = vt__strdup(buf);
        if (!f->le_text[i] || !f->le_om[i])
            return VT_ENOMEM;
    }
    return 0;
}

static int set_cells(struct vt_family *f) {
    uint32_t n = 0;
    switch (f->type) {
    case VT_COUNTER:
        n = 2;
        break;
    case VT_HISTOGRAM:
        n = (uint32_t)f->nbounds + 3;
        break;
    case VT_SUMMARY:
        n = 3;
        break;
    default:
        return 0;
    }
    f->ncells = n;
    f->cell_kinds = vt__calloc(n, 1);
    if (!f->cell_kinds)
        return VT_ENOMEM;
    if (f->type == VT_COUNTER) {
        f->cell_kinds[0] = VT__CELL_U64;
        f->cell_kinds[1] = VT__CELL_F64;
    } else {
        f->cell_kinds[0] = VT__CELL_SEQ;
        for (uint32_t i = 1; i + 1 < n; i++)
            f->cell_kinds[i] = VT__CELL_U64;
        f->cell_kinds[n - 1] = VT__CELL_F64;
    }
    return 0;
}

static vt__table_t *table_new(uint32_t size) {
    vt__table_t *t = vt__calloc(1, sizeof *t + (size_t)size * sizeof(t->idx[0]));
    if (t)
        t->mask = size - 1;
    return t;
}

int vt__check_meta(vt_type_t type, const char *name, const char *help, const char *unit,
                   const char *const *labels, const char *const *const_labels) {
    if (!name)
        return VT_EINVAL;
    if (!vt__valid_metric_name(name))
        return VT_ENAME;
    size_t len = strlen(name);
    if (type == VT_COUNTER && ends_with(name, "_total"))
        len -= 6;
    if (len == 0 || (type == VT_INFO && ends_with(name, "_info")))
        return VT_ENAME;
    if (help && !vt__valid_utf8(help, strlen(help)))
        return VT_EUTF8;
    if (unit && *unit) {
        size_t ul = strlen(unit);
        for (const char *p = unit; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
                return VT_EUNIT;
        if (ul + 1 >= len || name[len - ul - 1] != '_' || memcmp(name + len - ul, unit, ul) != 0)
            return VT_EUNIT;
    }
    size_t nl = count_list(labels), nc2 = count_list(const_labels);
    if (nc2 % 2)
        return VT_EINVAL;
    if (nl > VT__MAX_LABELS)
        return VT_ELIMIT;
    size_t nc = nc2 / 2;
    for (size_t i = 0; i < nl + nc; i++) {
        const char *n = i < nl ? labels[i] : const_labels[2 * (i - nl)];
        int rc = check_label_name(type, n);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++) {
            const char *m = j < nl ? labels[j] : const_labels[2 * (j - nl)];
            if (strcmp(n, m) == 0)
                return VT_EDUPLABEL;
        }
    }
    for (size_t i = 0; i < nc; i++)
        if (!vt__valid_utf8(const_labels[2 * i + 1], strlen(const_labels[2 * i + 1])))
            return VT_EUTF8;
    return 0;
}

static _Atomic uint64_t next_gen = 1;

int vt__family_create(vt_registry_t *reg, vt_type_t type, const vt_metric_opts_t *o,
                      struct vt_family **out) {
    if (!o || !out)
        return VT_EINVAL;
    int rc = vt__check_meta(type, o->name, o->help, o->unit, o->label_names, o->const_labels);
    if (rc)
        return rc;
    struct vt_family *f = vt__calloc(1, sizeof *f);
    if (!f)
        return VT_ENOMEM;
    f->type = type;
    f->gen = atomic_fetch_add_explicit(&next_gen, 1, memory_order_relaxed);
    pthread_mutex_init(&f->mu, NULL);
    f->created = vt__now_unix();
    f->name = vt__strdup(o->name);
    f->help = vt__strdup(o->help ? o->help : "");
    f->unit = o->unit && *o->unit ? vt__strdup(o->unit) : NULL;
    if (!f->name || !f->help || (o->unit && *o->unit && !f->unit)) {
        rc = VT_ENOMEM;
        goto fail;
    }
    if (type == VT_COUNTER && ends_with(f->name, "_total"))
        f->name[strlen(f->name) - 6] = '\0';

    size_t nl = count_list(o->label_names), nc = count_list(o->const_labels) / 2;
    f->nlabels = nl;
    /* Info families free replaced series, so a cached one could dangle. */
    f->bind_cached = nl >= 1 && nl <= VT__BC_LABELS && type != VT_INFO;
    f->label_names = vt__calloc(nl ? nl : 1, sizeof(char *));
    f->label_lens = vt__calloc(nl ? nl : 1, sizeof(size_t));
    f->prefixes = vt__calloc(nl ? nl : 1, sizeof(char *));
    f->prefix_lens = vt__calloc(nl ? nl : 1, sizeof(size_t));
    if (!f->label_names || !f->label_lens || !f->prefixes || !f->prefix_lens) {
        rc = VT_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < nl; i++) {
        if (!(f->label_names[i] = vt__strdup(o->label_names[i]))) {
            rc = VT_ENOMEM;
            goto fail;
        }
        f->label_lens[i] = strlen(f->label_names[i]);
    }
    size_t clen = 0;
    for (size_t i = 0; i < nc; i++) {
        const char *v = o->const_labels[2 * i + 1];
        clen += strlen(o->const_labels[2 * i]) + 3 + vt__escaped_len(v, strlen(v)) + (i > 0);
    }
    f->const_text = vt__malloc(clen + 1);
    if (!f->const_text) {
        rc = VT_ENOMEM;
        goto fail;
    }
    char *d = f->const_text;
    for (size_t i = 0; i < nc; i++) {
        if (i)
            *d++ = ',';
        d = render_pair(d, o->const_labels[2 * i], o->const_labels[2 * i + 1]);
    }
    *d = '\0';
    f->const_len = clen;
    /* What stands before each label value in a rendered series: `,name="`. */
    for (size_t i = 0; i < nl; i++) {
        size_t comma = i > 0 || clen > 0, len = comma + f->label_lens[i] + 2;
        if (!(f->prefixes[i] = vt__calloc(len + 1, 1))) {
            rc = VT_ENOMEM;
            goto fail;
        }
        f->prefixes[i][0] = ',';
        memcpy(f->prefixes[i] + comma, f->label_names[i], f->label_lens[i]);
        memcpy(f->prefixes[i] + comma + f->label_lens[i], "=\"", 3);
        f->prefix_lens[i] = len;
    }

    if (type == VT_HISTOGRAM && o->native_bucket_factor != 0) {
        if (!(o->native_bucket_factor > 1) || !isfinite(o->native_bucket_factor) ||
            o->native_zero_threshold < 0 || o->native_max_zero_threshold < 0 ||
            o->native_min_reset_seconds < 0 || isnan(o->native_zero_threshold)) {
            rc = VT_ERANGE;
            goto fail;
        }
        if (!(f->native = vt__calloc(1, sizeof *f->native))) {
            rc = VT_ENOMEM;
            goto fail;
        }
        f->native->schema = vt__nh_schema_for_factor(o->native_bucket_factor);
        f->native->zero_threshold =
            o->native_zero_threshold > 0 ? o->native_zero_threshold : ldexp(1, -VT__NH_SPAN);
        f->native->max_zero_threshold = o->native_max_zero_threshold;
        f->native->max_buckets = o->native_max_buckets;
        f->native->min_reset_ns = (uint64_t)(o->native_min_reset_seconds * 1e9);
    }
    if (type == VT_HISTOGRAM && (rc = set_buckets(f, o)) != 0)
        goto fail;
    if ((rc = set_cells(f)) != 0)
        goto fail;
    if (type == VT_SUMMARY && o->quantile_count) {
        if (!o->quantiles) {
            rc = VT_EINVAL;
            goto fail;
        }
        f->sketch = vt__calloc(1, sizeof *f->sketch);
        if (!f->sketch) {
            rc = VT_ENOMEM;
            goto fail;
        }
        if ((rc = vt__sketch_cfg_init(f->sketch, o)) != 0)
            goto fail;
    }
    f->max_series = o->max_series ? o->max_series : VT_DEFAULT_MAX_SERIES;
    if (f->max_series > (size_t)UINT32_MAX / 4) {
        rc = VT_ELIMIT;
        goto fail;
    }
    f->nchunks = (f->max_series + 1 + VT__CHUNK - 1) / VT__CHUNK;
    f->chunks = vt__calloc(f->nchunks, sizeof(f->chunks[0]));
    vt__table_t *t = table_new(16);
    if (!f->chunks || !t) {
        vt__free(t);
        rc = VT_ENOMEM;
        goto fail;
    }
    atomic_store_explicit(&f->table, t, memory_order_relaxed);
    /* A family without labels has its one series from the start, so it is
     * exposed (at zero) before its first update. */
    if (nl == 0 && type != VT_INFO) {
        vt__series_t *only;
        if ((rc = vt__family_with(f, NULL, &only)) != 0)
            goto fail;
    }
    if (reg && (rc = vt_registry_register(reg, f)) != 0)
        goto fail;
    *out = f;
    return 0;
fail:
    family_free(f);
    return rc;
}

vt__series_t *vt__family_at(struct vt_family *f, uint32_t i) {
    _Atomic(vt__series_t *) *chunk =
        atomic_load_explicit(&f->chunks[i / VT__CHUNK], memory_order_acquire);
    return chunk ? atomic_load_explicit(&chunk[i % VT__CHUNK], memory_order_acquire) : NULL;
}

/* Compare through the escaping: for series whose text has escapes. */
static int __attribute__((noinline))
matches_escaped(const struct vt_family *f, const vt__series_t *s, const char *const *values) {
    const char *p = s->text + f->const_len, *end = s->text + s->text_len;
    for (size_t i = 0; i < f->nlabels; i++) {
        p += f->prefix_lens[i];
        if (p > end)
            return 0;
        for (const char *v = values[i]; *v; v++) {
            char c = *v;
            if (c == '\\' || c == '"' || c == '\n') {
                if (p >= end || *p != '\\')
                    return 0;
                p++;
                if (c == '\n')
                    c = 'n';
            }
            if (p >= end || *p != c)
                return 0;
            p++;
        }
        if (p >= end || *p != '"')
            return 0;
        p++;
    }
    return p == end;
}

/* Do the series' labels hold exactly these values? See lookup_t. */
static inline int series_matches(const struct vt_family *f, const vt__series_t *s,
                                 const char *const *values, const lookup_t *k) {
    if (VT__UNLIKELY(s->escaped))
        return matches_escaped(f, s, values);
    const char *p = s->text + f->const_len, *end = s->text + s->text_len;
    const size_t *pl = f->prefix_lens;
    for (size_t i = 0, nl = f->nlabels; i < nl; i++) {
        size_t n = k->n[i];
        p += pl[i];
        if ((size_t)(end - p) <= n || p[n] != '"')
            return 0;
        if (VT__LIKELY(n <= 16)) {
            uint64_t w[2];
            words(p, n, w);
            if (((w[0] ^ k->w[i][0]) | (w[1] ^ k->w[i][1])) != 0)
                return 0;
        } else if (memcmp(p, values[i], n) != 0)
            return 0;
        p += n + 1;
    }
    return p == end;
}

/* Find the table position holding these values, or -1. */
static inline long table_find(struct vt_family *f, vt__table_t *t, const char *const *values,
                              const lookup_t *k, vt__series_t **out) {
    uint32_t h = k->hash;
    for (uint32_t i = h & t->mask, probes = 0; probes <= t->mask; i = (i + 1) & t->mask, probes++) {
        uint32_t e = atomic_load_explicit(&t->idx[i], memory_order_acquire);
        if (e == 0)
            return -1;
        if (e == TOMBSTONE)
            continue;
        vt__series_t *s = vt__family_at(f, e - 1);
        if (s && s->hash == h && series_matches(f, s, values, k)) {
            *out = s;
            return (long)i;
        }
    }
    return -1;
}

/* Re-insert the live entries of t in place, dropping its tombstones. A
 * lock-free reader meanwhile may miss an entry, never find a wrong one, and
 * a miss retries under the mutex, which the caller holds. */
static int table_rehash(struct vt_family *f, vt__table_t *t) {
    uint32_t *live = vt__malloc((f->nlive + 1) * sizeof *live), n = 0;
    if (!live)
        return VT_ENOMEM;
    for (uint32_t i = 0; i <= t->mask; i++) {
        uint32_t e = atomic_load_explicit(&t->idx[i], memory_order_relaxed);
        if (e != 0 && e != TOMBSTONE && n <= f->nlive)
            live[n++] = e;
        atomic_store_explicit(&t->idx[i], 0, memory_order_release);
    }
    for (uint32_t k = 0; k < n; k++) {
        vt__series_t *s = vt__family_at(f, live[k] - 1);
        uint32_t j = s->hash & t->mask;
        while (atomic_load_explicit(&t->idx[j], memory_order_relaxed))
            j = (j + 1) & t->mask;
        atomic_store_explicit(&t->idx[j], live[k], memory_order_release);
    }
    f->table_used = n;
    vt__free(live);
    return 0;
}

static int table_insert(struct vt_family *f, uint32_t h, uint32_t dir_index) {
    vt__table_t *t = atomic_load_explicit(&f->table, memory_order_relaxed);
    uint32_t size = t->mask + 1;
    /* At most half full (tombstones included), so a lookup mostly probes once. */
    if ((uint64_t)(f->table_used + 1) * 2 > size && (uint64_t)(f->nlive + 1) * 4 <= size) {
        /* Mostly tombstones: clean up in place, so churn keeps no old tables. */
        int rc = table_rehash(f, t);
        if (rc)
            return rc;
    }
    if ((uint64_t)(f->table_used + 1) * 2 > size) {
        /* Grow: a new table twice the size; the old one is kept for readers. */
        vt__table_t *nt = table_new(size * 2);
        struct vt__oldtable *old = vt__malloc(sizeof *old);
        if (!nt || !old) {
            vt__free(nt);
            vt__free(old);
            return VT_ENOMEM;
        }
        uint32_t used = 0;
        for (uint32_t i = 0; i <= t->mask; i++) {
            uint32_t e = atomic_load_explicit(&t->idx[i], memory_order_relaxed);
            if (e == 0 || e == TOMBSTONE)
                continue;
            vt__series_t *s = vt__family_at(f, e - 1);
            uint32_t j = s->hash & nt->mask;
            while (atomic_load_explicit(&nt->idx[j], memory_order_relaxed))
                j = (j + 1) & nt->mask;
            atomic_store_explicit(&nt->idx[j], e, memory_order_relaxed);
            used++;
        }
        old->table = t;
        old->next = f->old_tables;
        f->old_tables = old;
        atomic_store_explicit(&f->table, nt, memory_order_release);
        f->table_used = used;
        t = nt;
    }
    uint32_t j = h & t->mask;
    for (;;) {
        uint32_t e = atomic_load_explicit(&t->idx[j], memory_order_relaxed);
        if (e == 0 || e == TOMBSTONE) {
            if (e == 0)
                f->table_used++;
            atomic_store_explicit(&t->idx[j], dir_index + 1, memory_order_release);
            return 0;
        }
        j = (j + 1) & t->mask;
    }
}

static int dir_put(struct vt_family *f, vt__series_t *s) {
    uint32_t idx;
    if (f->nfree)
        idx = f->free_idx[--f->nfree];
    else {
        if (f->dir_len >= f->nchunks * VT__CHUNK)
            return VT_ELIMIT;
        idx = f->dir_len;
    }
    _Atomic(vt__series_t *) *chunk =
        atomic_load_explicit(&f->chunks[idx / VT__CHUNK], memory_order_relaxed);
    if (!chunk) {
        chunk = vt__calloc(VT__CHUNK, sizeof(chunk[0]));
        if (!chunk) {
            if (idx != f->dir_len)
                f->nfree++;
            return VT_ENOMEM;
        }
        atomic_store_explicit(&f->chunks[idx / VT__CHUNK], chunk, memory_order_release);
    }
    if (idx == f->dir_len)
        f->dir_len++;
    s->dir_index = idx;
    atomic_store_explicit(&chunk[idx % VT__CHUNK], s, memory_order_release);
    return 0;
}

static void dir_drop(struct vt_family *f, vt__series_t *s) {
    _Atomic(vt__series_t *) *chunk =
        atomic_load_explicit(&f->chunks[s->dir_index / VT__CHUNK], memory_order_relaxed);
    atomic_store_explicit(&chunk[s->dir_index % VT__CHUNK], NULL, memory_order_release);
    if (f->nfree == f->free_cap) {
        size_t cap = f->free_cap ? f->free_cap * 2 : 16;
        uint32_t *n = vt__realloc(f->free_idx, cap * sizeof *n);
        if (!n)
            return; /* the index is simply not reused */
        f->free_idx = n;
        f->free_cap = cap;
    }
    f->free_idx[f->nfree++] = s->dir_index;
}

static void series_free(struct vt_family *f, vt__series_t *s) {
    if (f->ncells)
        vt__slots_free(s->u.slot, f->ncells);
    vt__series_ext_free(atomic_load_explicit(&s->ext, memory_order_relaxed), f);
    vt__free(s);
}

/* A new series for these values (already validated), not yet published. */
static int series_new(struct vt_family *f, const char *const *values, const size_t *lens,
                      uint32_t h, vt__series_t **out) {
    size_t len = f->const_len, raw = f->const_len;
    size_t vl[VT__MAX_LABELS], el[VT__MAX_LABELS]; /* raw and escaped lengths */
    for (size_t i = 0; i < f->nlabels; i++) {
        vl[i] = lens ? lens[i] : strlen(values[i]);
        el[i] = vt__escaped_len(values[i], vl[i]);
        len += f->prefix_lens[i] + el[i] + 1;
        raw += f->prefix_lens[i] + vl[i] + 1;
    }
    if (len > UINT32_MAX / 2)
        return VT_ELIMIT;
    vt__series_t *s = vt__malloc(sizeof *s + (len ? len : 1));
    if (!s)
        return VT_ENOMEM;
    memset(s, 0, sizeof *s);
    s->fam = f;
    s->hash = h;
    s->z.created = vt__now_unix();
    s->text_len = (uint32_t)len;
    s->escaped = len != raw; /* a label value needed escaping (const labels do not count) */
    char *d = s->text;
    memcpy(d, f->const_text, f->const_len);
    d += f->const_len;
    for (size_t i = 0; i < f->nlabels; i++) {
        memcpy(d, f->prefixes[i], f->prefix_lens[i]);
        d += f->prefix_lens[i];
        if (el[i] == vl[i]) { /* nothing to escape */
            memcpy(d, values[i], vl[i]);
            d += vl[i];
        } else
            d = vt__escape_label(d, values[i], vl[i]);
        *d++ = '"';
    }
    if (f->sketch || f->native) { /* quantile sketch or native buckets: before it is seen */
        struct vt__series_ext *e = vt__calloc(1, sizeof *e);
        if (e && f->sketch)
            e->sketch = vt__sketch_new(f->sketch);
        if (e && f->native)
            e->native = vt__native_new(f->native);
        if (!e || (f->sketch && !e->sketch) || (f->native && !e->native)) {
            if (e && e->sketch)
                vt__sketch_free(e->sketch, f->sketch);
            vt__free(e);
            vt__free(s);
            return VT_ENOMEM;
        }
        pthread_mutex_init(&e->ex_mu, NULL);
        atomic_store_explicit(&s->ext, e, memory_order_relaxed);
    }
    if (f->ncells) {
        int rc = vt__slots_alloc(f->ncells, f->cell_kinds, &s->u.slot);
        if (rc) {
            vt__series_ext_free(atomic_load_explicit(&s->ext, memory_order_relaxed), f);
            vt__free(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

static int overflow_series(struct vt_family *f, int count, vt__series_t **out) {
    if (count)
        atomic_fetch_add_explicit(&f->overflowed, 1, memory_order_relaxed);
    if (!f->overflow) {
        const char *vals[VT__MAX_LABELS + 1];
        size_t n = f->nlabels;
        for (size_t i = 0; i < n; i++)
            vals[i] = VT_OVERFLOW_LABEL_VALUE;
        vals[n] = NULL;
        vt__series_t *s;
        int rc = series_new(f, vals, NULL, 0, &s);
        if (rc)
            return rc;
        if ((rc = dir_put(f, s)) != 0) {
            series_free(f, s);
            return rc;
        }
        f->overflow = s;
    }
    *out = f->overflow;
    return 0;
}

/* Binding a new series, or a lookup that raced a table change: under the mutex. */
static int __attribute__((noinline))
with_locked(struct vt_family *f, const char *const *values, const lookup_t *k, vt__series_t **out) {
    size_t n = f->nlabels;
    vt__series_t *s;
    pthread_mutex_lock(&f->mu);
    int rc = 0;
    if (table_find(f, atomic_load_explicit(&f->table, memory_order_relaxed), values, k, &s) >= 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        if (!vt__valid_utf8(values[i], k->n[i])) {
            rc = VT_EUTF8;
            goto done;
        }
    /* The overflow series' label set names the overflow series itself, so
     * that binding it never makes a second series with the same labels. */
    size_t j = 0;
    while (j < n && strcmp(values[j], VT_OVERFLOW_LABEL_VALUE) == 0)
        j++;
    if (n > 0 && j == n) {
        rc = overflow_series(f, 0, &s);
        goto done;
    }
    if (f->nlive >= f->max_series) {
        rc = overflow_series(f, 1, &s);
        goto done;
    }
    if ((rc = series_new(f, values, k->n, k->hash, &s)) != 0)
        goto done;
    if ((rc = dir_put(f, s)) != 0) {
        series_free(f, s);
        goto done;
    }
    if ((rc = table_insert(f, k->hash, s->dir_index)) != 0) {
        dir_drop(f, s);
        series_free(f, s);
        goto done;
    }
    f->nlive++;
done:
    pthread_mutex_unlock(&f->mu);
    if (rc == 0)
        *out = s;
    return rc;
}

int vt__family_hash(struct vt_family *f, const char *const *values, uint32_t *out_hash) {
    lookup_t k;
    int rc = key_make(f, values ? values : (const char *const[]){NULL}, &k);
    if (rc == 0)
        *out_hash = k.hash;
    return rc;
}

/* A bind that missed the cache: hash, probe the table, and on a miss take the mutex. */
static int __attribute__((noinline))
with_table(struct vt_family *f, const char *const *values, vt__series_t **out) {
    lookup_t k;
    int rc = key_make(f, values, &k);
    if (VT__UNLIKELY(rc != 0))
        return rc;
    if (VT__LIKELY(table_find(f, atomic_load_explicit(&f->table, memory_order_acquire), values, &k,
                              out) >= 0)) {
        if (f->bind_cached && !(*out)->escaped)
            vt__bind_cache_put(f, values, *out, k.n);
        return 0;
    }
    return with_locked(f, values, &k, out);
}

int vt__family_with(struct vt_family *f, const char *const *values, vt__series_t **out) {
    if (VT__UNLIKELY(!f || !out))
        return VT_EINVAL;
    static const char *const none[] = {NULL};
    if (!values)
        values = none;
    if (VT__LIKELY(f->bind_cached)) {
        vt__series_t *s = vt__bind_cache_get(f, values);
        if (VT__LIKELY(s != NULL)) {
            *out = s;
            return 0;
        }
    }
    return with_table(f, values, out);
}

static void zombify(struct vt_family *f, vt__series_t *s) {
    atomic_store_explicit(&s->deleted, 1, memory_order_relaxed);
    s->z.zombie_next = f->zombies;
    f->zombies = s;
}

int vt_family_remove(vt_family_t *f, const char *const *values) {
    if (!f)
        return VT_EINVAL;
    static const char *const none[] = {NULL};
    if (!values)
        values = none;
    lookup_t k;
    int rc = key_make(f, values, &k);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&f->mu);
    vt__table_t *t = atomic_load_explicit(&f->table, memory_order_relaxed);
    vt__series_t *s;
    long pos = table_find(f, t, values, &k, &s);
    if (pos < 0) {
        pthread_mutex_unlock(&f->mu);
        return VT_ENOTFOUND;
    }
    atomic_store_explicit(&t->idx[pos], TOMBSTONE, memory_order_release);
    dir_drop(f, s);
    zombify(f, s);
    f->nlive--;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

void vt__family_drop(struct vt_family *f, vt__series_t *s) {
    vt__table_t *t = atomic_load_explicit(&f->table, memory_order_relaxed);
    for (uint32_t i = 0; i <= t->mask; i++)
        if (atomic_load_explicit(&t->idx[i], memory_order_relaxed) == s->dir_index + 1) {
            atomic_store_explicit(&t->idx[i], TOMBSTONE, memory_order_release);
            break;
        }
    dir_drop(f, s);
    zombify(f, s);
    f->nlive--;
}

void vt__family_free_zombies(struct vt_family *f) {
    while (f->zombies) {
        vt__series_t *s = f->zombies;
        f->zombies = s->z.zombie_next;
        series_free(f, s);
    }
}

void vt_family_clear(vt_family_t *f) {
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    /* Empty the table in place: a lock-free reader can only miss, and a miss
     * retries under the mutex. */
    vt__table_t *t = atomic_load_explicit(&f->table, memory_order_relaxed);
    for (uint32_t i = 0; i <= t->mask; i++)
        atomic_store_explicit(&t->idx[i], 0, memory_order_release);
    f->table_used = 0;
    for (uint32_t i = 0; i < f->dir_len; i++) {
        vt__series_t *s = vt__family_at(f, i);
        if (!s)
            continue;
        _Atomic(vt__series_t *) *chunk =
            atomic_load_explicit(&f->chunks[i / VT__CHUNK], memory_order_relaxed);
        atomic_store_explicit(&chunk[i % VT__CHUNK], NULL, memory_order_release);
        zombify(f, s);
    }
    f->dir_len = 0;
    f->nfree = 0;
    f->nlive = 0;
    f->overflow = NULL;
    f->info_series = NULL;
    pthread_mutex_unlock(&f->mu);
}

size_t vt_family_series_count(vt_family_t *f) {
    if (!f)
        return 0;
    pthread_mutex_lock(&f->mu);
    size_t n = f->nlive + (f->overflow != NULL);
    pthread_mutex_unlock(&f->mu);
    return n;
}

static void family_free(struct vt_family *f) {
    if (!f)
        return;
    if (f->chunks) {
        for (size_t c = 0; c < f->nchunks; c++) {
            _Atomic(vt__series_t *) *chunk =
                atomic_load_explicit(&f->chunks[c], memory_order_relaxed);
            if (!chunk)
                continue;
            for (uint32_t i = 0; i < VT__CHUNK; i++) {
                vt__series_t *s = atomic_load_explicit(&chunk[i], memory_order_relaxed);
                if (s)
                    series_free(f, s);
            }
            vt__free((void *)chunk);
        }
        vt__free((void *)f->chunks);
    }
    while (f->zombies) {
        vt__series_t *s = f->zombies;
        f->zombies = s->z.zombie_next;
        series_free(f, s);
    }
    vt__free(atomic_load_explicit(&f->table, memory_order_relaxed));
    while (f->old_tables) {
        struct vt__oldtable *o = f->old_tables;
        f->old_tables = o->next;
        vt__free(o->table);
        vt__free(o);
    }
    for (size_t i = 0; f->label_names && i < f->nlabels; i++)
        vt__free(f->label_names[i]);
    vt__free(f->label_names);
    vt__free(f->label_lens);
    for (size_t i = 0; f->prefixes && i < f->nlabels; i++)
        vt__free(f->prefixes[i]);
    vt__free(f->prefixes);
    vt__free(f->prefix_lens);
    for (size_t i = 0; i <= f->nbounds; i++) {
        if (f->le_text)
            vt__free(f->le_text[i]);
        if (f->le_om)
            vt__free(f->le_om[i]);
    }
    vt__free(f->le_text);
    vt__free(f->le_om);
    vt__free(f->bounds);
    vt__free(f->cell_kinds);
    if (f->sketch) {
        vt__sketch_cfg_cleanup(f->sketch);
        vt__free(f->sketch);
    }
    vt__free(f->native);
    vt__free(f->free_idx);
    vt__free(f->const_text);
    vt__free(f->name);
    vt__free(f->help);
    vt__free(f->unit);
    pthread_mutex_destroy(&f->mu);
    vt__free(f);
}

int vt_family_destroy(vt_family_t *f) {
    if (!f)
        return 0;
    if (atomic_load_explicit(&f->reg, memory_order_acquire))
        return VT_EBUSY;
    family_free(f);
    return 0;
}

const char *vt_family_name(const vt_family_t *f) {
    return f ? f->name : NULL;
}
vt_type_t vt_family_type(const vt_family_t *f) {
    return f ? f->type : VT_UNTYPED;
}
