/* exemplar.c - series extensions and the exemplars kept in them.
 *
 * An exemplar links a counter or one histogram bucket to the trace of its
 * latest observation. Only series that record one pay for it: the extension
 * is allocated on first use, and each exemplar slot keeps a reusable text
 * buffer, so a steady stream of exemplars allocates nothing. A per-series
 * mutex guards the slots; scrapes copy them under it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>
#include <time.h>

#include "internal.h"

/* OpenMetrics: label names and values of an exemplar, together, at most 128
 * UTF-8 code points. */
#define MAX_RUNES 128

struct vt__series_ext *vt__series_ext(vt__series_t *s) {
    struct vt__series_ext *e = atomic_load_explicit(&s->ext, memory_order_acquire);
    if (e)
        return e;
    struct vt_family *f = s->fam;
    pthread_mutex_lock(&f->mu);
    e = atomic_load_explicit(&s->ext, memory_order_relaxed);
    if (!e && (e = vt__calloc(1, sizeof *e)) != NULL) {
        pthread_mutex_init(&e->ex_mu, NULL);
        atomic_store_explicit(&s->ext, e, memory_order_release);
    }
    pthread_mutex_unlock(&f->mu);
    return e;
}

void vt__series_ext_free(struct vt__series_ext *e, const struct vt_family *f) {
    if (!e)
        return;
    if (e->sketch)
        vt__sketch_free(e->sketch, f->sketch);
    vt__native_free(e->native);
    for (uint32_t i = 0; i < e->nex; i++)
        vt__free(e->ex[i].text);
    vt__free(e->ex);
    pthread_mutex_destroy(&e->ex_mu);
    vt__free(e);
}

static size_t runes(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int vt__exemplar_store(vt__series_t *s, uint32_t which, uint32_t nslots, double v,
                       const char *const *names, const char *const *values) {
    size_t n = 0, k = 0, total = 0, len = 0;
    while (names && names[n])
        n++;
    while (values && values[k])
        k++;
    if (n != k)
        return VT_ELABELCOUNT;
    if (n == 0)
        return VT_EINVAL; /* an exemplar names its trace */
    for (size_t i = 0; i < n; i++) {
        if (!vt__valid_label_name(names[i]))
            return VT_ELABELNAME;
        size_t vl = strlen(values[i]);
        if (!vt__valid_utf8(values[i], vl))
            return VT_EUTF8;
        total += runes(names[i]) + runes(values[i]);
        len += (i > 0) + strlen(names[i]) + 3 + vt__escaped_len(values[i], vl);
    }
    if (total > MAX_RUNES)
        return VT_ELIMIT;
    struct vt__series_ext *e = vt__series_ext(s);
    if (!e)
        return VT_ENOMEM;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int rc = 0;
    pthread_mutex_lock(&e->ex_mu);
    if (!e->ex) {
        e->ex = vt__calloc(nslots, sizeof *e->ex);
        if (!e->ex) {
            rc = VT_ENOMEM;
            goto out;
        }
        e->nex = nslots;
    }
    vt__exemplar_t *x = &e->ex[which < e->nex ? which : e->nex - 1];
    if (len > x->cap || !x->text) {
        char *t = vt__realloc(x->text, len ? len : 1);
        if (!t) {
            rc = VT_ENOMEM;
            goto out;
        }
        x->text = t;
        x->cap = (uint32_t)(len ? len : 1);
    }
    char *d = x->text;
    for (size_t i = 0; i < n; i++) {
        if (i)
            *d++ = ',';
        size_t nl = strlen(names[i]);
        memcpy(d, names[i], nl);
        d += nl;
        *d++ = '=';
        *d++ = '"';
        d = vt__escape_label(d, values[i], strlen(values[i]));
        *d++ = '"';
    }
    x->len = (uint32_t)len;
    x->value = v;
    x->ts = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
out:
    pthread_mutex_unlock(&e->ex_mu);
    return rc;
}
