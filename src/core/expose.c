/* expose.c - a scrape: snapshot each family, then hand it to a writer.
 *
 * A family is snapshotted under its mutex (series list, callbacks) and, for
 * sharded types, under the cells lock (sums over every thread's cells); the
 * writer formats after both are released. Series memory stays valid after the
 * mutex is dropped because series are freed only with their family, and a
 * registered family cannot be destroyed while a scrape holds the registry's
 * read lock.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void vt_write_opts_init(vt_write_opts_t *o) {
    if (o)
        memset(o, 0, sizeof *o);
}

const char *vt_format_content_type(vt_format_t f) {
    return f == VT_FORMAT_OPENMETRICS ? VT_CONTENT_TYPE_OPENMETRICS : VT_CONTENT_TYPE_TEXT;
}

static double call_value(vt__series_t *s, int *has) {
    struct vt__series_ext *e = atomic_load_explicit(&s->ext, memory_order_acquire);
    if (e && e->fn) {
        *has = 1;
        return e->fn(e->user_data);
    }
    *has = 0;
    return 0;
}

/* Copy a series' exemplars into one block (views, then texts) the view owns;
 * without memory the scrape simply shows none. */
static void copy_exemplars(vt__series_t *s, vt__series_view_t *v) {
    struct vt__series_ext *e = atomic_load_explicit(&s->ext, memory_order_acquire);
    if (!e)
        return;
    pthread_mutex_lock(&e->ex_mu);
    if (e->ex) {
        size_t bytes = e->nex * sizeof(vt__exemplar_view_t);
        for (uint32_t i = 0; i < e->nex; i++)
            bytes += e->ex[i].len;
        vt__exemplar_view_t *x = vt__malloc(bytes);
        if (x) {
            char *text = (char *)(x + e->nex);
            for (uint32_t i = 0; i < e->nex; i++) {
                x[i].len = e->ex[i].len;
                x[i].value = e->ex[i].value;
                x[i].ts = e->ex[i].ts;
                x[i].text = text;
                if (e->ex[i].len)
                    memcpy(text, e->ex[i].text, e->ex[i].len);
                text += e->ex[i].len;
            }
            v->ex = x;
            v->nex = e->nex;
        }
    }
    pthread_mutex_unlock(&e->ex_mu);
}

int vt__visit_family(struct vt_family *f, vt__target_t *t) {
    pthread_mutex_lock(&f->mu);
    size_t n = 0;
    for (uint32_t i = 0; i < f->dir_len; i++)
        n += vt__family_at(f, i) != NULL;
    size_t nq = f->sketch ? f->sketch->nq : 0;
    double *qv = nq ? vt__calloc(n ? n * nq : 1, sizeof(double)) : NULL;
    vt__series_view_t *sv = vt__calloc(n ? n : 1, sizeof *sv);
    vt__series_t **ser = vt__calloc(n ? n : 1, sizeof *ser);
    size_t nb = f->type == VT_HISTOGRAM ? f->nbounds + 1 : 0;
    uint64_t *buckets = nb ? vt__calloc(n ? n * nb : 1, sizeof(uint64_t)) : NULL;
    if (!sv || !ser || (nb && !buckets) || (nq && !qv)) {
        pthread_mutex_unlock(&f->mu);
        vt__free(qv);
        vt__free(sv);
        vt__free(ser);
        vt__free(buckets);
        return VT_ENOMEM;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < f->dir_len && k < n; i++) {
        vt__series_t *s = vt__family_at(f, i);
        if (!s)
            continue;
        ser[k] = s;
        sv[k].labels = s->text;
        sv[k].labels_len = s->text_len;
        sv[k].created = s->z.created; /* live: not a zombie link */
        if (f->type == VT_COUNTER || f->type == VT_HISTOGRAM)
            copy_exemplars(s, &sv[k]);
        if (nq) { /* quantiles need no cells lock: the sketch is shared atomics */
            vt__sketch_quantiles(atomic_load_explicit(&s->ext, memory_order_acquire)->sketch,
                                 f->sketch, qv + k * nq);
            sv[k].nquantiles = nq;
            sv[k].quantiles = f->sketch->q;
            sv[k].qvalues = qv + k * nq;
        }
        k++;
    }
    /* Scrape-time values first: callbacks run without the cells lock. */
    int has_cb[1];
    for (size_t i = 0; i < n; i++) {
        if (f->type == VT_GAUGE) {
            double v = call_value(ser[i], has_cb);
            sv[i].value =
                *has_cb
                    ? v
                    : vt__bits_f64(atomic_load_explicit(&ser[i]->u.gauge, memory_order_relaxed));
        } else if (f->type == VT_COUNTER) {
            double v = call_value(ser[i], has_cb);
            if (*has_cb) {
                if (!(v >= 0)) {
                    atomic_fetch_add_explicit(&f->err_callback, 1, memory_order_relaxed);
                    v = 0;
                }
                sv[i].value = v;
                sv[i].created = NAN; /* the callback owns the counter's life */
            } else
                sv[i].value = NAN; /* marks "read the cells" below */
        } else if (f->type == VT_INFO)
            sv[i].value = 1;
    }
    if (f->ncells) {
        uint64_t u[VT__MAX_CELLS_PER_SERIES];
        double d[VT__MAX_CELLS_PER_SERIES];
        vt__cells_lock();
        for (size_t i = 0; i < n; i++) {
            uint32_t slot = ser[i]->u.slot;
            if (f->type == VT_COUNTER) {
                if (!isnan(sv[i].value))
                    continue;
                uint64_t iv = vt__sum_u64(slot);
                double dv = vt__sum_f64(slot + 1);
                sv[i].count = iv;
                sv[i].value = (double)iv + dv;
                sv[i].value_is_count = dv == 0;
                continue;
            }
            memset(u, 0, f->ncells * sizeof u[0]);
            memset(d, 0, f->ncells * sizeof d[0]);
            if (f->native && t->wants_native) { /* cells and native buckets together */
                vt__nh_view_t *nv = vt__calloc(1, sizeof *nv);
                if (nv && vt__native_read(
                              atomic_load_explicit(&ser[i]->ext, memory_order_acquire)->native,
                              slot, f->ncells, f->cell_kinds, u, d, nv) == 0)
                    sv[i].native = nv;
                else { /* without memory the scrape shows no native buckets */
                    vt__free(nv);
                    memset(u, 0, f->ncells * sizeof u[0]);
                    memset(d, 0, f->ncells * sizeof d[0]);
                    vt__sum_seq(slot, f->ncells, f->cell_kinds, u, d);
                }
            } else
                vt__sum_seq(slot, f->ncells, f->cell_kinds, u, d);
            sv[i].sum = d[f->ncells - 1];
            if (f->type == VT_HISTOGRAM) {
                uint64_t *cum = buckets + i * nb, acc = 0;
                for (size_t b = 0; b < nb; b++) {
                    acc += u[1 + b];
                    cum[b] = acc;
                }
                sv[i].buckets = cum;
                sv[i].count = acc;
            } else
                sv[i].count = u[1];
        }
        vt__cells_unlock();
    }
    /* Removed series stay readable until the writer is done with them. */
    atomic_fetch_add_explicit(&f->readers, 1, memory_order_relaxed);
    pthread_mutex_unlock(&f->mu);

    vt__family_view_t fv = {.type = f->type,
                            .name = f->name,
                            .help = f->help,
                            .unit = f->unit,
                            .nbounds = f->nbounds,
                            .le_text = (const char *const *)f->le_text,
                            .le_om = (const char *const *)f->le_om};
    int rc = t->family(t, &fv, sv, n);
    atomic_fetch_sub_explicit(&f->readers, 1, memory_order_release);
    for (size_t i = 0; i < n; i++) {
        vt__free((void *)sv[i].ex);
        if (sv[i].native) {
            vt__nh_view_free((vt__nh_view_t *)sv[i].native);
            vt__free((void *)sv[i].native);
        }
    }
    vt__free(qv);
    vt__free(sv);
    vt__free(ser);
    vt__free(buckets);
    return rc;
}

int vt_registry_write(vt_registry_t *reg, const vt_write_opts_t *opts, vt_sink_fn sink, void *ud) {
    if (!reg || !sink)
        return VT_EINVAL;
    if (opts && opts->format != VT_FORMAT_TEXT && opts->format != VT_FORMAT_OPENMETRICS)
        return VT_EINVAL;
    vt__out_t *o = vt__malloc(sizeof *o);
    if (!o)
        return VT_ENOMEM;
    vt__out_init(o, opts, sink, ud);
    int rc = vt__registry_visit(reg, &o->target);
    int rc2 = vt__out_finish(o);
    vt__free(o);
    return rc ? rc : rc2;
}

static int buf_sink(void *ud, const char *data, size_t len) {
    vt_buf_t *b = ud;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *d = vt__realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int vt_registry_write_buf(vt_registry_t *reg, const vt_write_opts_t *opts, vt_buf_t *buf) {
    if (!buf)
        return VT_EINVAL;
    int rc = vt_registry_write(reg, opts, buf_sink, buf);
    return rc == VT_ESINK ? VT_ENOMEM : rc;
}

void vt_buf_free(vt_buf_t *b) {
    if (!b)
        return;
    vt__free(b->data);
    memset(b, 0, sizeof *b);
}
