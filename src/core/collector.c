/* collector.c - the emitter through which custom collectors produce families.
 *
 * One emitter lives for one collector call. It gathers one family at a time,
 * checks it like a created family, and hands it to the scrape's writer when
 * the next family opens or the call returns. A family with any invalid part
 * is dropped whole and counted, so a collector's bug never corrupts a scrape.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "fmt_double.h"
#include "internal.h"

struct vt_emitter {
    vt__target_t *target;
    vt_registry_t *reg;
    const struct vt_collector *self;
    struct vt__scrape_names *seen;
    int rc;   /* first failure of the writer: stops the scrape */
    int open; /* a family is being gathered */
    int bad;  /* the open family had an error: drop it */
    vt__family_view_t fv;
    char *name, *help, *unit;
    char **labels;
    size_t nlabels;
    double *bounds; /* histogram bounds of the family (all series share them) */
    char **le_text, **le_om;
    vt__series_view_t *sv;
    size_t n, cap;
};

static void free_strs(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++)
        vt__free(v[i]);
    vt__free(v);
}

static void reset(vt_emitter_t *e) {
    for (size_t i = 0; i < e->n; i++) {
        vt__free((char *)e->sv[i].labels);
        vt__free((void *)e->sv[i].buckets);
        vt__free((void *)e->sv[i].quantiles);
        vt__free((void *)e->sv[i].qvalues);
    }
    vt__free(e->sv);
    free_strs(e->labels, e->nlabels);
    free_strs(e->le_text, e->fv.nbounds + 1);
    free_strs(e->le_om, e->fv.nbounds + 1);
    vt__free(e->bounds);
    vt__free(e->name);
    vt__free(e->help);
    vt__free(e->unit);
    vt__target_t *t = e->target;
    vt_registry_t *r = e->reg;
    const struct vt_collector *self = e->self;
    struct vt__scrape_names *seen = e->seen;
    int rc = e->rc;
    memset(e, 0, sizeof *e);
    e->target = t;
    e->reg = r;
    e->self = self;
    e->seen = seen;
    e->rc = rc;
}

static void close_family(vt_emitter_t *e) {
    if (e->open && !e->bad && e->reg &&
        vt__registry_claim(e->reg, e->self, e->seen, e->fv.type, e->name))
        e->bad = 1; /* another family owns the name: keep the output valid */
    if (e->open && !e->bad && !e->rc) {
        e->fv.name = e->name;
        e->fv.help = e->help;
        e->fv.unit = e->unit;
        e->fv.le_text = (const char *const *)e->le_text;
        e->fv.le_om = (const char *const *)e->le_om;
        e->rc = e->target->family(e->target, &e->fv, e->sv, e->n);
    } else if (e->open && e->bad)
        vt__registry_count_collector_error(e->reg);
    reset(e);
}

static int fail(vt_emitter_t *e, int rc) {
    if (e->open)
        e->bad = 1;
    return rc;
}

int vt_emit_family(vt_emitter_t *e, vt_type_t type, const char *name, const char *help,
                   const char *unit, const char *const *label_names) {
    if (!e)
        return VT_EINVAL;
    close_family(e);
    e->open = 1;
    if ((int)type < VT_COUNTER || type > VT_UNTYPED)
        return fail(e, VT_EINVAL);
    int rc = vt__check_meta(type, name, help, unit, label_names, NULL);
    if (rc)
        return fail(e, rc);
    e->fv.type = type;
    e->name = vt__strdup(name);
    e->help = vt__strdup(help ? help : "");
    e->unit = unit && *unit ? vt__strdup(unit) : NULL;
    size_t n = 0;
    while (label_names && label_names[n])
        n++;
    e->labels = vt__calloc(n ? n : 1, sizeof(char *));
    if (!e->name || !e->help || (unit && *unit && !e->unit) || !e->labels)
        return fail(e, VT_ENOMEM);
    e->nlabels = n;
    for (size_t i = 0; i < n; i++)
        if (!(e->labels[i] = vt__strdup(label_names[i])))
            return fail(e, VT_ENOMEM);
    size_t len = strlen(e->name);
    if (type == VT_COUNTER && len > 6 && strcmp(e->name + len - 6, "_total") == 0)
        e->name[len - 6] = '\0';
    return 0;
}

/* Render the sample's labels and append a series view; NULL on error. */
static vt__series_view_t *add_series(vt_emitter_t *e, const char *const *values, int *rc) {
    *rc = 0;
    if (!e->open || e->bad) {
        *rc = e->open ? VT_ESTATE : VT_ESTATE;
        return NULL;
    }
    size_t n = 0;
    while (values && n <= e->nlabels && values[n])
        n++;
    if (n != e->nlabels) {
        *rc = fail(e, VT_ELABELCOUNT);
        return NULL;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t vl = strlen(values[i]);
        if (!vt__valid_utf8(values[i], vl)) {
            *rc = fail(e, VT_EUTF8);
            return NULL;
        }
        len += (i > 0) + strlen(e->labels[i]) + 3 + vt__escaped_len(values[i], vl);
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        vt__series_view_t *sv = vt__realloc(e->sv, cap * sizeof *sv);
        if (!sv) {
            *rc = fail(e, VT_ENOMEM);
            return NULL;
        }
        e->sv = sv;
        e->cap = cap;
    }
    char *text = vt__malloc(len + 1), *d = text;
    if (!text) {
        *rc = fail(e, VT_ENOMEM);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            *d++ = ',';
        size_t nl = strlen(e->labels[i]);
        memcpy(d, e->labels[i], nl);
        d += nl;
        *d++ = '=';
        *d++ = '"';
        d = vt__escape_label(d, values[i], strlen(values[i]));
        *d++ = '"';
    }
    *d = '\0';
    vt__series_view_t *s = &e->sv[e->n++];
    memset(s, 0, sizeof *s);
    s->labels = text;
    s->labels_len = len;
    s->created = NAN;
    return s;
}

int vt_emit_value(vt_emitter_t *e, const char *const *values, double value) {
    if (!e)
        return VT_EINVAL;
    if (e->open && !e->bad && (e->fv.type == VT_HISTOGRAM || e->fv.type == VT_SUMMARY))
        return fail(e, VT_ETYPE);
    if (e->open && !e->bad && e->fv.type == VT_COUNTER && !(value >= 0))
        return fail(e, VT_ERANGE);
    int rc;
    vt__series_view_t *s = add_series(e, values, &rc);
    if (!s)
        return rc;
    s->value = e->fv.type == VT_INFO ? 1 : value;
    return 0;
}

static int set_bounds(vt_emitter_t *e, const double *b, size_t n) {
    if (e->n > 1) { /* later series must use the first one's bounds */
        if (n != e->fv.nbounds)
            return VT_EBUCKETS;
        for (size_t i = 0; i < n; i++)
            if (b[i] != e->bounds[i])
                return VT_EBUCKETS;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(b[i]) || (i && !(b[i] > b[i - 1])))
            return VT_EBUCKETS;
    e->bounds = vt__calloc(n ? n : 1, sizeof(double));
    e->le_text = vt__calloc(n + 1, sizeof(char *));
    e->le_om = vt__calloc(n + 1, sizeof(char *));
    e->fv.nbounds = n;
    if (!e->bounds || !e->le_text || !e->le_om)
        return VT_ENOMEM;
    for (size_t i = 0; i <= n; i++) {
        char t[VT_DOUBLE_BUFSZ], o[VT_DOUBLE_BUFSZ];
        if (i < n) {
            e->bounds[i] = b[i];
            vt_format_double(b[i], t);
            vt__format_om_canonical(b[i], o);
        } else {
            strcpy(t, "+Inf");
            strcpy(o, "+Inf");
        }
        if (!(e->le_text[i] = vt__strdup(t)) || !(e->le_om[i] = vt__strdup(o)))
            return VT_ENOMEM;
    }
    return 0;
}

int vt_emit_histogram(vt_emitter_t *e, const char *const *values, const double *bounds,
                      const uint64_t *cum, size_t nb, uint64_t count, double sum) {
    if (!e || (nb && (!bounds || !cum)))
        return VT_EINVAL;
    if (e->open && !e->bad && e->fv.type != VT_HISTOGRAM)
        return fail(e, VT_ETYPE);
    if (nb + 3 > VT__MAX_CELLS_PER_SERIES)
        return fail(e, VT_ELIMIT);
    for (size_t i = 0; i < nb; i++)
        if ((i && cum[i] < cum[i - 1]) || cum[i] > count)
            return fail(e, VT_EBUCKETS);
    int rc;
    vt__series_view_t *s = add_series(e, values, &rc);
    if (!s)
        return rc;
    if ((rc = set_bounds(e, bounds, nb)) != 0)
        return fail(e, rc);
    uint64_t *b = vt__malloc((nb + 1) * sizeof *b);
    if (!b)
        return fail(e, VT_ENOMEM);
    memcpy(b, cum, nb * sizeof *b);
    b[nb] = count;
    s->buckets = b;
    s->count = count;
    s->sum = sum;
    return 0;
}

int vt_emit_summary(vt_emitter_t *e, const char *const *values, uint64_t count, double sum,
                    const double *q, const double *qv, size_t nq) {
    if (!e || (nq && (!q || !qv)))
        return VT_EINVAL;
    if (e->open && !e->bad && e->fv.type != VT_SUMMARY)
        return fail(e, VT_ETYPE);
    for (size_t i = 0; i < nq; i++)
        if (!(q[i] >= 0 && q[i] <= 1) || (i && !(q[i] > q[i - 1])))
            return fail(e, VT_ERANGE);
    int rc;
    vt__series_view_t *s = add_series(e, values, &rc);
    if (!s)
        return rc;
    double *qq = vt__malloc((nq ? nq : 1) * sizeof *qq),
           *vv = vt__malloc((nq ? nq : 1) * sizeof *vv);
    s->quantiles = qq;
    s->qvalues = vv;
    if (!qq || !vv)
        return fail(e, VT_ENOMEM);
    memcpy(qq, q, nq * sizeof *qq);
    memcpy(vv, qv, nq * sizeof *vv);
    s->nquantiles = nq;
    s->count = count;
    s->sum = sum;
    return 0;
}

int vt__run_collector(vt_collect_fn fn, void *ud, vt__target_t *t, vt_registry_t *reg,
                      const struct vt_collector *self, struct vt__scrape_names *seen) {
    vt_emitter_t *e = vt__calloc(1, sizeof *e);
    if (!e)
        return VT_ENOMEM;
    e->target = t;
    e->reg = reg;
    e->self = self;
    e->seen = seen;
    int rc = fn(e, ud);
    if (rc < 0 && e->open) {
        e->bad = 1; /* the collector gave up on its last family */
    } else if (rc < 0)
        vt__registry_count_collector_error(reg); /* counted even with nothing to drop */
    close_family(e);
    int out = e->rc;
    vt__free(e);
    return out;
}
