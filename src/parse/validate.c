/* validate.c - the rules of the exposition formats that are not syntax.
 *
 * One pass over the families, then one over each family's samples. Label sets
 * are compared as sets: each sample's labels are sorted by name once, and
 * every key (a series, a metric group, a histogram point) is a hash over the
 * sorted labels, confirmed by an exact comparison, so cost stays linear in
 * the document even when an attacker picks the names. The OpenMetrics rules
 * follow the specification where it is explicit and the OpenMetrics test
 * suite where the specification leaves room. Problems are kept in line order.
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/internal.h"

#define MAX_PROBLEMS 10000
#define EXEMPLAR_MAX_RUNES 128

/* ---- problem list ------------------------------------------------------------ */

typedef struct vctx {
    const vt_doc_t *doc;
    vt_problems_t *out;
    int om;
    int oom;
    int full;                      /* MAX_PROBLEMS reached */
    const vt_doc_label_t **sorted; /* every sample's labels sorted by name, back to back */
    const vt_doc_family_t *fam;    /* family being checked */
    size_t fam_name_len;
    const vt_doc_label_t *const *fam_sorted; /* sorted labels of fam's first sample */
    size_t *fam_off;                         /* offsets into fam_sorted per sample */
    const struct sinfo *si;                  /* per sample of fam */
    struct hset {
        uint64_t *h;
        size_t *v;    /* sample index within the family */
        unsigned *g;  /* generation of the slot */
        unsigned gen; /* current generation, never 0 */
        size_t cap, n;
    } groups, series, points; /* metrics, series within a metric, histogram points */
    struct point *pts;        /* histogram points of the family */
    size_t *pt_of;            /* sample index -> point index */
} vctx_t;

static void add(vctx_t *c, vt_severity_t sev, unsigned line, const char *fmt, ...) {
    vt_problems_t *o = c->out;
    if (sev == VT_SEV_ERROR) {
        o->errors++;
    }
    if (c->full || c->oom) {
        return;
    }
    if (o->count == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        vt_problem_t *v = realloc(o->items, cap * sizeof *v);
        if (!v) {
            c->oom = 1;
            return;
        }
        o->items = v;
        o->cap = cap;
    }
    vt_problem_t *p = &o->items[o->count++];
    p->severity = sev;
    p->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    if (o->count == MAX_PROBLEMS) {
        c->full = 1;
    }
}

#define ERR(line, ...) add(c, VT_SEV_ERROR, (line), __VA_ARGS__)
#define WARN(line, ...) add(c, VT_SEV_WARNING, (line), __VA_ARGS__)

void vt_problems_free(vt_problems_t *problems) {
    if (problems) {
        free(problems->items);
        memset(problems, 0, sizeof *problems);
    }
}

/* Stable merge sort by line, so that problems on one line keep their order. */
static void sort_problems(vt_problems_t *o, size_t from, int *oom) {
    size_t n = o->count - from;
    if (n < 2) {
        return;
    }
    vt_problem_t *a = o->items + from;
    int sorted = 1;
    for (size_t i = 1; i < n && sorted; i++) {
        sorted = a[i - 1].line <= a[i].line;
    }
    if (sorted) {
        return;
    }
    vt_problem_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
        *oom = 1;
        return;
    }
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                tmp[k++] = a[j].line < a[i].line ? a[j++] : a[i++];
            }
            while (i < mid) {
                tmp[k++] = a[i++];
            }
            while (j < hi) {
                tmp[k++] = a[j++];
            }
        }
        memcpy(a, tmp, n * sizeof *tmp);
    }
    free(tmp);
}

/* ---- hash sets of sample keys ------------------------------------------------- */

enum {
    K_NAME = 1,  /* the sample name is part of the key */
    K_TS = 2,    /* the timestamp is part of the key */
    K_GROUP = 4, /* leave out the label that varies within a metric (le, quantile, ...) */
    K_ALL = 8    /* leave out every label (info: one group per family) */
};

/* What validation needs of each sample of the family being checked, worked
 * out once: hashes of its sorted labels with and without the label its
 * metric's samples differ in. */
typedef struct sinfo {
    vt__suffix_t suffix;
    const char *skip;   /* label left out of the group, or NULL */
    uint64_t name_hash; /* of the sample name */
    uint64_t all_hash;  /* of every label */
    uint64_t grp_hash;  /* of every label but skip */
} sinfo_t;

/* Open addressing; a slot is in use when its generation is the set's, so
 * emptying the set is one increment. */
typedef struct hset hset_t;

static void hset_free(hset_t *s) {
    free(s->h);
    free(s->v);
    free(s->g);
    memset(s, 0, sizeof *s);
}

static void hset_clear(hset_t *s) {
    s->n = 0;
    if (++s->gen == 0) {
        if (s->g) {
            memset(s->g, 0, s->cap * sizeof *s->g);
        }
        s->gen = 1;
    }
}

static uint64_t mix(uint64_t h, const char *p, size_t n) {
    const uint64_t m = 0x9e3779b97f4a7c15ull;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * m;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t w = (uint64_t)n << 56;
    for (size_t i = 0; i < n; i++) {
        w |= (uint64_t)(unsigned char)p[i] << (8 * i);
    }
    h = (h ^ w) * m;
    return h ^ (h >> 29);
}

static uint64_t fmix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

/* The label a metric's samples differ in, which does not identify the metric. */
static const char *group_skip(const vt_doc_family_t *f, vt__suffix_t k) {
    switch (f->type) {
    case VT_DOC_SUMMARY:
        return k == VT__SUF_NONE ? "quantile" : NULL;
    case VT_DOC_STATESET:
        return f->name;
    case VT_DOC_HISTOGRAM:
    case VT_DOC_GAUGEHISTOGRAM:
        return k == VT__SUF_BUCKET ? "le" : NULL;
    default:
        return NULL;
    }
}

static void fill_sinfo(vctx_t *c, sinfo_t *si) {
    const vt_doc_family_t *f = c->fam;
    uint64_t seed = vt__hash_seed();
    const char *prev_name = NULL;
    uint64_t prev_hash = 0;
    for (size_t i = 0; i < f->sample_count; i++) {
        const vt_doc_sample_t *s = &f->samples[i];
        sinfo_t *x = &si[i];
        if (s->name != prev_name) {
            size_t n = strlen(s->name);
            prev_name = s->name;
            prev_hash = mix(seed, s->name, n);
            x->suffix = vt__suffix_kind(s->name, n, c->fam_name_len);
        } else {
            x->suffix = si[i - 1].suffix;
        }
        x->name_hash = prev_hash;
        x->skip = group_skip(f, x->suffix);
        uint64_t all = seed, grp = seed;
        const vt_doc_label_t *const *l = c->fam_sorted + c->fam_off[i];
        for (size_t k = 0; k < s->label_count; k++) {
            uint64_t lh =
                mix(mix(seed, l[k]->name, strlen(l[k]->name)), l[k]->value, l[k]->value_len);
            all = (all ^ lh) * 0xbf58476d1ce4e5b9ull;
            if (!x->skip || l[k]->name[0] != x->skip[0] || strcmp(l[k]->name, x->skip) != 0) {
                grp = (grp ^ lh) * 0xbf58476d1ce4e5b9ull;
            }
        }
        x->all_hash = all;
        x->grp_hash = grp;
    }
}

static uint64_t key_hash(const vctx_t *c, size_t i, int flags) {
    const vt_doc_sample_t *s = &c->fam->samples[i];
    const sinfo_t *x = &c->si[i];
    uint64_t h = (flags & K_ALL)     ? 0x2545f4914f6cdd1dull
                 : (flags & K_GROUP) ? x->grp_hash
                                     : x->all_hash;
    if (flags & K_NAME) {
        h = (h ^ x->name_hash) * 0x94d049bb133111ebull;
    }
    if (flags & K_TS) {
        uint64_t t = 0;
        if (s->has_timestamp) {
            memcpy(&t, &s->timestamp, sizeof t);
            t ^= 1;
        }
        h = (h ^ t) * 0x94d049bb133111ebull;
    }
    return fmix(h);
}

static int same_key(const vctx_t *c, size_t ia, size_t ib, int flags) {
    const vt_doc_sample_t *a = &c->fam->samples[ia], *b = &c->fam->samples[ib];
    if ((flags & K_NAME) && a->name != b->name && strcmp(a->name, b->name) != 0) {
        return 0;
    }
    if (flags & K_TS) {
        if (a->has_timestamp != b->has_timestamp ||
            (a->has_timestamp && a->timestamp != b->timestamp)) {
            return 0;
        }
    }
    if (flags & K_ALL) {
        return 1;
    }
    const char *sa = (flags & K_GROUP) ? c->si[ia].skip : NULL;
    const char *sb = (flags & K_GROUP) ? c->si[ib].skip : NULL;
    const vt_doc_label_t *const *la = c->fam_sorted + c->fam_off[ia];
    const vt_doc_label_t *const *lb = c->fam_sorted + c->fam_off[ib];
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->label_count && sa && la[i]->name[0] == sa[0] &&
               strcmp(la[i]->name, sa) == 0) {
            i++;
        }
        while (j < b->label_count && sb && lb[j]->name[0] == sb[0] &&
               strcmp(lb[j]->name, sb) == 0) {
            j++;
        }
        if (i == a->label_count || j == b->label_count) {
            return i == a->label_count && j == b->label_count;
        }
        if ((la[i]->name != lb[j]->name && strcmp(la[i]->name, lb[j]->name) != 0) ||
            la[i]->value_len != lb[j]->value_len ||
            memcmp(la[i]->value, lb[j]->value, la[i]->value_len) != 0) {
            return 0;
        }
        i++;
        j++;
    }
}

static int hset_grow(hset_t *s) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    uint64_t *h = malloc(cap * sizeof *h);
    size_t *v = malloc(cap * sizeof *v);
    unsigned *g = calloc(cap, sizeof *g);
    if (!h || !v || !g) {
        free(h);
        free(v);
        free(g);
        return -1;
    }
    for (size_t k = 0; k < s->cap; k++) {
        if (s->g[k] == s->gen) {
            size_t m = (size_t)s->h[k] & (cap - 1);
            while (g[m]) {
                m = (m + 1) & (cap - 1);
            }
            h[m] = s->h[k];
            v[m] = s->v[k];
            g[m] = 1;
        }
    }
    free(s->h);
    free(s->v);
    free(s->g);
    s->h = h;
    s->v = v;
    s->g = g;
    s->gen = 1;
    s->cap = cap;
    return 0;
}

/* Look sample i up in s under key flags; add it when absent. Returns the
 * index of the earlier sample with the same key, SIZE_MAX when i was added,
 * or SIZE_MAX - 1 when out of memory. */
static size_t hset_add(vctx_t *c, hset_t *s, size_t i, int flags) {
    if (!s->gen) {
        s->gen = 1;
    }
    if (2 * (s->n + 1) > s->cap && hset_grow(s) != 0) {
        c->oom = 1;
        return SIZE_MAX - 1;
    }
    uint64_t hv = key_hash(c, i, flags);
    size_t mask = s->cap - 1;
    for (size_t m = (size_t)hv & mask;; m = (m + 1) & mask) {
        if (s->g[m] != s->gen) {
            s->h[m] = hv;
            s->v[m] = i;
            s->g[m] = s->gen;
            s->n++;
            return SIZE_MAX;
        }
        if (s->h[m] == hv && same_key(c, s->v[m], i, flags)) {
            return s->v[m];
        }
    }
}

/* ---- helpers --------------------------------------------------------------- */

static const vt_doc_label_t *find_label(const vt_doc_sample_t *s, const char *name) {
    for (size_t i = 0; i < s->label_count; i++) {
        if (strcmp(s->labels[i].name, name) == 0) {
            return &s->labels[i];
        }
    }
    return NULL;
}

static int is_integer(double v) {
    return isfinite(v) && v == floor(v);
}

static int cmp_label(const void *a, const void *b) {
    return strcmp((*(const vt_doc_label_t *const *)a)->name,
                  (*(const vt_doc_label_t *const *)b)->name);
}

static void sort_labels(const vt_doc_label_t **l, size_t n) {
    if (n > 12) {
        qsort(l, n, sizeof *l, cmp_label);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        const vt_doc_label_t *x = l[i];
        size_t j = i;
        while (j > 0 && strcmp(l[j - 1]->name, x->name) > 0) {
            l[j] = l[j - 1];
            j--;
        }
        l[j] = x;
    }
}

/* Do a and b have the same label names in the same order? The parser shares
 * name strings between consecutive samples, so pointers usually decide. */
static int same_names(const vt_doc_sample_t *a, const vt_doc_sample_t *b) {
    if (a->label_count != b->label_count) {
        return 0;
    }
    for (size_t i = 0; i < a->label_count; i++) {
        if (a->labels[i].name != b->labels[i].name &&
            strcmp(a->labels[i].name, b->labels[i].name) != 0) {
            return 0;
        }
    }
    return 1;
}

static const char *suffix_text(vt__suffix_t k) {
    static const char *const t[] = {"",        "_total",  "_created", "_count", "_sum",
                                    "_bucket", "_gcount", "_gsum",    "_info",  "?"};
    return t[k];
}

/* ---- family-level rules ------------------------------------------------------- */

/* A string set for name clashes; strings live in the arena. */
typedef struct sset {
    const char **s;
    size_t *fam; /* family index + 1 */
    size_t cap, n;
    vt__arena_t arena;
} sset_t;

static size_t sset_add(sset_t *set, const char *a, size_t an, const char *b, size_t bn, size_t fam,
                       int *oom) {
    if (2 * (set->n + 1) > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        const char **s = calloc(cap, sizeof *s);
        size_t *f = calloc(cap, sizeof *f);
        if (!s || !f) {
            free(s);
            free(f);
            *oom = 1;
            return 0;
        }
        for (size_t k = 0; k < set->cap; k++) {
            if (set->s[k]) {
                size_t m = (size_t)vt__hash_bytes(set->s[k], strlen(set->s[k]), vt__hash_seed()) &
                           (cap - 1);
                while (s[m]) {
                    m = (m + 1) & (cap - 1);
                }
                s[m] = set->s[k];
                f[m] = set->fam[k];
            }
        }
        free(set->s);
        free(set->fam);
        set->s = s;
        set->fam = f;
        set->cap = cap;
    }
    char *str = vt__arena_bytes(&set->arena, an + bn + 1);
    if (!str) {
        *oom = 1;
        return 0;
    }
    memcpy(str, a, an);
    memcpy(str + an, b, bn);
    str[an + bn] = '\0';
    size_t mask = set->cap - 1;
    for (size_t m = (size_t)vt__hash_bytes(str, an + bn, vt__hash_seed()) & mask;;
         m = (m + 1) & mask) {
        if (!set->s[m]) {
            set->s[m] = str;
            set->fam[m] = fam + 1;
            set->n++;
            return 0;
        }
        if (strcmp(set->s[m], str) == 0) {
            return set->fam[m];
        }
    }
}

static unsigned suffix_set(int om, vt_doc_type_t t) {
#define B(k) (1u << (k))
    switch (t) {
    case VT_DOC_COUNTER:
        return om ? B(VT__SUF_TOTAL) | B(VT__SUF_CREATED) : 0u;
    case VT_DOC_SUMMARY:
        return B(VT__SUF_COUNT) | B(VT__SUF_SUM) | (om ? B(VT__SUF_CREATED) : 0u);
    case VT_DOC_HISTOGRAM:
        return B(VT__SUF_BUCKET) | B(VT__SUF_COUNT) | B(VT__SUF_SUM) |
               (om ? B(VT__SUF_CREATED) : 0u);
    case VT_DOC_GAUGEHISTOGRAM:
        return B(VT__SUF_BUCKET) | B(VT__SUF_GCOUNT) | B(VT__SUF_GSUM);
    case VT_DOC_INFO:
        return B(VT__SUF_INFO);
    default:
        return 0u;
    }
#undef B
}

static const char *meta_kind_at(const vt_doc_family_t *f, unsigned line) {
    if (f->type_line == line) {
        return "TYPE";
    }
    if (f->help_line == line) {
        return "HELP";
    }
    if (f->unit_line == line) {
        return "UNIT";
    }
    return NULL;
}

static unsigned meta_line(const vt_doc_family_t *f, const char *kind) {
    return kind[0] == 'T' ? f->type_line : kind[0] == 'H' ? f->help_line : f->unit_line;
}

static void check_families(vctx_t *c) {
    const vt_doc_t *d = c->doc;
    sset_t names;
    memset(&names, 0, sizeof names);
    int oom = 0;
    unsigned char *again = calloc(d->family_count ? d->family_count : 1, 1);
    if (!again) {
        c->oom = 1;
        return;
    }
    /* First: blocks that repeat the name of an earlier block. */
    for (size_t i = 0; i < d->family_count && !oom; i++) {
        const vt_doc_family_t *f = &d->families[i];
        size_t first = sset_add(&names, f->name, strlen(f->name), "", 0, i, &oom);
        if (!first) {
            continue;
        }
        again[i] = 1;
        const vt_doc_family_t *g = &d->families[i - 1];
        const char *kind = meta_kind_at(f, f->line);
        if (strcmp(g->name, f->name) != 0) {
            ERR(f->line,
                "family \"%.80s\" is not contiguous: it appears again after other families "
                "(first at line %u)",
                f->name, d->families[first - 1].line);
        } else if (!kind) {
            ERR(f->line, "\"%.80s\" is not a sample name of %s \"%.80s\"", f->samples[0].name,
                vt_doc_type_name(g->type), g->name);
        } else if (g->sample_count) {
            ERR(f->line, "%s for \"%.80s\" comes after its samples (line %u)", kind, f->name,
                g->samples[0].line);
        } else {
            ERR(f->line, "%s for \"%.80s\" is repeated (first at line %u)", kind, f->name,
                meta_line(g, kind));
        }
    }
    vt__arena_free(&names.arena);
    free(names.s);
    free(names.fam);
    memset(&names, 0, sizeof names);

    /* Second: names a family's samples could take that another family owns. */
    for (size_t i = 0; i < d->family_count && !oom; i++) {
        const vt_doc_family_t *f = &d->families[i];
        size_t n = strlen(f->name);
        if (again[i]) {
            continue; /* reported above */
        }
        unsigned set = suffix_set(c->om, f->type) | 1u;
        for (unsigned k = VT__SUF_NONE; k <= VT__SUF_INFO && !oom; k++) {
            if (!(set & (1u << k))) {
                continue;
            }
            const char *suf = suffix_text((vt__suffix_t)k);
            size_t other = sset_add(&names, f->name, n, suf, strlen(suf), i, &oom);
            if (other) {
                const vt_doc_family_t *g = &d->families[other - 1];
                add(c, c->om ? VT_SEV_ERROR : VT_SEV_WARNING, f->line,
                    "name \"%.80s%s\" of %s \"%.80s\" clashes with %s \"%.80s\" (line %u)", f->name,
                    suf, vt_doc_type_name(f->type), f->name, vt_doc_type_name(g->type), g->name,
                    g->line);
                break;
            }
        }
    }
    free(again);
    vt__arena_free(&names.arena);
    free(names.s);
    free(names.fam);
    if (oom) {
        c->oom = 1;
    }

    for (size_t i = 0; i < d->family_count; i++) {
        const vt_doc_family_t *f = &d->families[i];
        if (f->unit && f->unit[0]) {
            size_t n = strlen(f->name), u = strlen(f->unit);
            if (!(n >= u + 1 && f->name[n - u - 1] == '_' &&
                  strcmp(f->name + n - u, f->unit) == 0)) {
                ERR(f->unit_line, "metric name \"%.80s\" must end with \"_%.80s\", its unit",
                    f->name, f->unit);
            }
            if (f->type == VT_DOC_INFO || f->type == VT_DOC_STATESET) {
                ERR(f->unit_line, "%s \"%.80s\" must not have a unit", vt_doc_type_name(f->type),
                    f->name);
            }
        }
    }
}

/* ---- histograms ---------------------------------------------------------------- */

typedef struct point {
    unsigned line; /* last sample of the point */
    int has_bucket, has_count, has_sum, has_gsum, neg_bucket, neg_gsum;
    double le, bucket_value, count;
} point_t;

static void point_finish(vctx_t *c, const point_t *p) {
    const char *name = c->fam->name;
    if (!p->has_bucket || p->le != HUGE_VAL) {
        ERR(p->line, "%s \"%.80s\" has no +Inf bucket", vt_doc_type_name(c->fam->type), name);
    }
    if (p->has_count && p->has_bucket && p->le == HUGE_VAL && p->count != p->bucket_value) {
        ERR(p->line, "%s of \"%.80s\" (%.17g) does not equal its +Inf bucket (%.17g)",
            c->fam->type == VT_DOC_GAUGEHISTOGRAM ? "_gcount" : "_count", name, p->count,
            p->bucket_value);
    }
    if (!c->om) {
        return;
    }
    if (p->has_sum && !p->has_count) {
        ERR(p->line, "histogram \"%.80s\" has _sum but no _count", name);
    }
    if (p->has_gsum && !p->has_count) {
        ERR(p->line, "gaugehistogram \"%.80s\" has _gsum but no _gcount", name);
    }
    if (!p->has_sum && !p->has_gsum && p->has_count) {
        ERR(p->line, "\"%.80s\" has %s but no %s", name,
            c->fam->type == VT_DOC_GAUGEHISTOGRAM ? "_gcount" : "_count",
            c->fam->type == VT_DOC_GAUGEHISTOGRAM ? "_gsum" : "_sum");
    }
    if (p->neg_bucket && p->has_sum) {
        ERR(p->line, "histogram \"%.80s\" has negative buckets, so it must not have _sum", name);
    }
    if (!p->neg_bucket && p->neg_gsum) {
        ERR(p->line, "_gsum of \"%.80s\" is negative but no bucket is", name);
    }
}

/* ---- per-family sample rules --------------------------------------------------- */

static int le_value(vctx_t *c, const vt_doc_sample_t *s, double *out) {
    const vt_doc_label_t *le = find_label(s, "le");
    if (!le) {
        ERR(s->line, "bucket \"%.80s\" has no \"le\" label", s->name);
        return -1;
    }
    double v;
    if (vt__parse_double(le->value, le->value_len, &v) != 0 || isnan(v)) {
        ERR(s->line, "bucket \"%.80s\" has an invalid le=\"%.40s\" (a number, not NaN)", s->name,
            le->value);
        return -1;
    }
    if (c->om && v == HUGE_VAL && strcmp(le->value, "+Inf") != 0) {
        ERR(s->line, "bucket \"%.80s\" must write its infinite le as \"+Inf\", not \"%.40s\"",
            s->name, le->value);
        return -1;
    }
    *out = v;
    return 0;
}

static void check_exemplar(vctx_t *c, const vt_doc_sample_t *s, vt__suffix_t k) {
    const vt_doc_family_t *f = c->fam;
    int ok = (k == VT__SUF_BUCKET &&
              (f->type == VT_DOC_HISTOGRAM || f->type == VT_DOC_GAUGEHISTOGRAM)) ||
             (k == VT__SUF_TOTAL && f->type == VT_DOC_COUNTER);
    if (!ok) {
        ERR(s->line,
            "exemplar on \"%.80s\": only counter _total and histogram _bucket samples may "
            "have one",
            s->name);
        return;
    }
    size_t runes = 0;
    for (size_t i = 0; i < s->exemplar->label_count; i++) {
        const vt_doc_label_t *l = &s->exemplar->labels[i];
        runes += vt__utf8_count(l->name, strlen(l->name));
        runes += vt__utf8_count(l->value, l->value_len);
    }
    if (runes > EXEMPLAR_MAX_RUNES) {
        ERR(s->line, "exemplar labels of \"%.80s\" are %zu characters long (at most %d)", s->name,
            runes, EXEMPLAR_MAX_RUNES);
    }
}

static void check_values(vctx_t *c, const vt_doc_sample_t *s, vt__suffix_t k) {
    const vt_doc_family_t *f = c->fam;
    double v = s->value;
    if (f->type == VT_DOC_STATESET) {
        if (!find_label(s, f->name)) {
            ERR(s->line, "stateset sample \"%.80s\" has no label named \"%.80s\"", s->name,
                f->name);
        }
        if (v != 0.0 && v != 1.0) {
            ERR(s->line, "stateset sample \"%.80s\" must be 0 or 1, not %.17g", s->name, v);
        }
    }
    if (f->type == VT_DOC_INFO && v != 1.0) {
        ERR(s->line, "info sample \"%.80s\" must be 1, not %.17g", s->name, v);
    }
    if ((k == VT__SUF_BUCKET || k == VT__SUF_COUNT || k == VT__SUF_GCOUNT) &&
        (f->type == VT_DOC_HISTOGRAM || f->type == VT_DOC_GAUGEHISTOGRAM) && !is_integer(v)) {
        ERR(s->line, "\"%.80s\" must be an integer count, not %.17g", s->name, v);
    } else if (k == VT__SUF_COUNT && f->type == VT_DOC_SUMMARY && !is_integer(v)) {
        ERR(s->line, "\"%.80s\" must be an integer count, not %.17g", s->name, v);
    }
    int counterlike = k == VT__SUF_TOTAL || k == VT__SUF_SUM || k == VT__SUF_COUNT ||
                      k == VT__SUF_BUCKET || k == VT__SUF_GCOUNT || k == VT__SUF_GSUM;
    if (counterlike && isnan(v)) {
        ERR(s->line, "\"%.80s\" must not be NaN", s->name);
    } else if (counterlike && k != VT__SUF_GSUM && v < 0) {
        ERR(s->line, "\"%.80s\" must not be negative (%.17g)", s->name, v);
    }
    if (f->type == VT_DOC_SUMMARY && k == VT__SUF_NONE && v < 0) {
        ERR(s->line, "quantile value of \"%.80s\" must not be negative (%.17g)", s->name, v);
    }
}

static void check_quantile(vctx_t *c, const vt_doc_sample_t *s) {
    const vt_doc_label_t *q = find_label(s, "quantile");
    double v;
    if (!q) {
        ERR(s->line, "summary sample \"%.80s\" has no \"quantile\" label", s->name);
    } else if (vt__parse_double(q->value, q->value_len, &v) != 0 || !(v >= 0.0 && v <= 1.0)) {
        ERR(s->line, "quantile=\"%.40s\" of \"%.80s\" must be a number from 0 to 1", q->value,
            s->name);
    }
}

static void check_text_values(vctx_t *c, const vt_doc_sample_t *s, vt__suffix_t k) {
    const vt_doc_family_t *f = c->fam;
    if (f->type == VT_DOC_COUNTER && (isnan(s->value) || s->value < 0)) {
        WARN(s->line, "counter \"%.80s\" is %s", s->name, isnan(s->value) ? "NaN" : "negative");
    }
    if (f->type == VT_DOC_HISTOGRAM && k != VT__SUF_BUCKET && (isnan(s->value) || s->value < 0)) {
        WARN(s->line, "\"%.80s\" is %s", s->name, isnan(s->value) ? "NaN" : "negative");
    }
}

static void check_family(vctx_t *c, size_t fi) {
    const vt_doc_family_t *f = &c->doc->families[fi];
    int om = c->om;
    int hist = f->type == VT_DOC_HISTOGRAM || f->type == VT_DOC_GAUGEHISTOGRAM;
    hset_t *groups = &c->groups, *series = &c->series, *points = &c->points;
    point_t *pts = c->pts;
    size_t npts = 0;
    size_t *pt_of = c->pt_of; /* sample index -> point index, for samples that start a point */
    int group_flags = K_GROUP | (f->type == VT_DOC_INFO ? K_ALL : 0);
    size_t cur_group = SIZE_MAX; /* first sample of the current group run */
    int warned_reserved = 0;
    hset_clear(groups);
    hset_clear(series);
    hset_clear(points);

    for (size_t i = 0; i < f->sample_count && !c->oom; i++) {
        const vt_doc_sample_t *s = &f->samples[i];
        vt__suffix_t k = c->si[i].suffix;
        int dup = 0;

        for (size_t l = 0; l < s->label_count && !warned_reserved; l++) {
            if (s->labels[l].name[0] == '_' && s->labels[l].name[1] == '_') {
                WARN(s->line, "label name \"%.80s\" is reserved (it starts with \"__\")",
                     s->labels[l].name);
                warned_reserved = 1;
            }
        }

        if (om) {
            /* Metric grouping: a metric's samples are contiguous, and its
             * points carry timestamps either all or none, never decreasing. */
            if (cur_group != SIZE_MAX && same_key(c, cur_group, i, group_flags)) {
                const vt_doc_sample_t *g = &f->samples[i - 1];
                if (g->has_timestamp != s->has_timestamp) {
                    ERR(s->line,
                        "\"%.80s\": samples of one metric must all have a timestamp "
                        "or none",
                        s->name);
                } else if (s->has_timestamp && s->timestamp < g->timestamp &&
                           f->type != VT_DOC_INFO) {
                    ERR(s->line, "\"%.80s\": timestamp goes backwards within a metric", s->name);
                }
                /* The same series at the same time again: one point written
                 * twice. It is left out of the histogram checks. */
                size_t prev = hset_add(c, series, i, K_NAME | K_TS);
                if (prev < SIZE_MAX - 1) {
                    dup = 1;
                    WARN(s->line, "\"%.80s\" repeats the series and timestamp of line %u", s->name,
                         f->samples[prev].line);
                }
            } else {
                size_t prev = hset_add(c, groups, i, group_flags);
                if (prev < SIZE_MAX - 1) {
                    ERR(s->line,
                        "\"%.80s\": the samples of one metric must be contiguous (it began at "
                        "line %u)",
                        s->name, f->samples[prev].line);
                }
                cur_group = i;
                hset_clear(series);
                (void)hset_add(c, series, i, K_NAME | K_TS);
            }
            check_values(c, s, k);
            if (f->type == VT_DOC_SUMMARY && k == VT__SUF_NONE) {
                check_quantile(c, s);
            }
            if (s->exemplar) {
                check_exemplar(c, s, k);
            }
        } else {
            size_t prev = hset_add(c, series, i, K_NAME);
            if (prev < SIZE_MAX - 1) {
                dup = 1;
                ERR(s->line, "duplicate series: \"%.80s\" with these labels is already at line %u",
                    s->name, f->samples[prev].line);
            }
            if (f->type == VT_DOC_SUMMARY && k == VT__SUF_NONE) {
                check_quantile(c, s);
            }
            check_text_values(c, s, k);
        }

        if (hist && !dup) {
            /* Histogram points: one per metric and timestamp. */
            size_t first = hset_add(c, points, i, K_GROUP | K_TS);
            if (first == SIZE_MAX - 1) {
                break;
            }
            point_t *p;
            if (first == SIZE_MAX) {
                pt_of[i] = npts;
                p = &pts[npts++];
                memset(p, 0, sizeof *p);
            } else {
                p = &pts[pt_of[first]];
            }
            p->line = s->line;
            if (k == VT__SUF_BUCKET) {
                double le;
                if (le_value(c, s, &le) == 0) {
                    if (le < 0) {
                        p->neg_bucket = 1;
                    }
                    if (p->has_bucket && le <= p->le) {
                        ERR(s->line,
                            "bucket le=\"%.40s\" of \"%.80s\" is not above the previous "
                            "bucket's",
                            find_label(s, "le")->value, f->name);
                    }
                    if (p->has_bucket && s->value < p->bucket_value) {
                        ERR(s->line,
                            "bucket le=\"%.40s\" of \"%.80s\" is below the previous "
                            "bucket (buckets are cumulative)",
                            find_label(s, "le")->value, f->name);
                    }
                    p->has_bucket = 1;
                    p->le = le;
                    p->bucket_value = s->value;
                }
            } else if (k == VT__SUF_COUNT || k == VT__SUF_GCOUNT) {
                p->has_count = 1;
                p->count = s->value;
            } else if (k == VT__SUF_SUM) {
                p->has_sum = 1;
            } else if (k == VT__SUF_GSUM) {
                p->has_gsum = 1;
                if (s->value < 0) {
                    p->neg_gsum = 1;
                }
            }
        } else if (hist && k == VT__SUF_BUCKET) {
            double le;
            (void)le_value(c, s, &le);
        }
    }
    for (size_t i = 0; i < npts && !c->oom; i++) {
        point_finish(c, &pts[i]);
    }
}

int vt_doc_validate(const vt_doc_t *doc, vt_problems_t *out) {
    if (!doc || !out) {
        return VT_EINVAL;
    }
    vctx_t c;
    memset(&c, 0, sizeof c);
    c.doc = doc;
    c.out = out;
    c.om = doc->format == VT_FORMAT_OPENMETRICS;
    size_t from = out->count;

    check_families(&c);

    size_t maxn = 0, maxl = 0;
    for (size_t i = 0; i < doc->family_count; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        size_t nl = 0;
        for (size_t k = 0; k < f->sample_count; k++) {
            nl += f->samples[k].label_count;
        }
        if (f->sample_count > maxn) {
            maxn = f->sample_count;
        }
        if (nl > maxl) {
            maxl = nl;
        }
    }
    const vt_doc_label_t **sorted = malloc((maxl ? maxl : 1) * sizeof *sorted);
    size_t *off = malloc((maxn ? maxn : 1) * sizeof *off);
    sinfo_t *si = malloc((maxn ? maxn : 1) * sizeof *si);
    c.pts = malloc((maxn ? maxn : 1) * sizeof *c.pts);
    c.pt_of = malloc((maxn ? maxn : 1) * sizeof *c.pt_of);
    if (!sorted || !off || !si || !c.pts || !c.pt_of) {
        c.oom = 1;
    }
    for (size_t i = 0; i < doc->family_count && !c.oom; i++) {
        const vt_doc_family_t *f = &doc->families[i];
        size_t o = 0;
        for (size_t k = 0; k < f->sample_count; k++) {
            const vt_doc_sample_t *s = &f->samples[k];
            off[k] = o;
            if (k > 0 && same_names(&f->samples[k - 1], s)) {
                /* Names in the same order as the sample before: same permutation. */
                const vt_doc_sample_t *p = &f->samples[k - 1];
                for (size_t l = 0; l < s->label_count; l++) {
                    sorted[o + l] = s->labels + (sorted[off[k - 1] + l] - p->labels);
                }
            } else {
                for (size_t l = 0; l < s->label_count; l++) {
                    sorted[o + l] = &s->labels[l];
                }
                sort_labels(sorted + o, s->label_count);
            }
            o += s->label_count;
        }
        c.fam = f;
        c.fam_name_len = strlen(f->name);
        c.fam_sorted = sorted;
        c.fam_off = off;
        fill_sinfo(&c, si);
        c.si = si;
        check_family(&c, i);
    }
    free(sorted);
    free(off);
    free(si);
    free(c.pts);
    free(c.pt_of);
    hset_free(&c.groups);
    hset_free(&c.series);
    hset_free(&c.points);
    if (c.full) {
        c.full = 0;
        c.out->count--; /* make room for the note, which sorts last */
        add(&c, VT_SEV_WARNING, UINT_MAX, "too many problems; only the first %d are listed",
            MAX_PROBLEMS - 1);
    }
    int oom = c.oom;
    sort_problems(out, from, &oom);
    return oom ? VT_ENOMEM : 0;
}
