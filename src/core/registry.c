/* registry.c - registries: the families and collectors one scrape writes.
 *
 * Invariants: a family is in at most one registry (its reg field says which);
 * no two members of a registry write the same sample name. The rwlock is held
 * for reading by scrapes and for writing by (un)registration, so a family
 * cannot leave a registry while a scrape writes it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct vt_collector {
    vt_collect_fn fn;
    void *user_data;
    void (*release)(void *);
    char **names;
    size_t nnames;
    struct vt_collector *next;
};

struct vt_registry {
    pthread_rwlock_t lock;
    struct vt_family *head, *tail;
    struct vt_collector *collectors;
    _Atomic int self_metrics;
    _Atomic uint64_t err_collector;     /* invalid collector output */
    _Atomic uint64_t removed_errors[3]; /* error counts of unregistered families */
};

static const char *const self_names[] = {"vitals_errors", "vitals_errors_total",
                                         "vitals_series_overflow", "vitals_series_overflow_total",
                                         NULL};

int vt_registry_create(vt_registry_t **out) {
    if (!out)
        return VT_EINVAL;
    vt_registry_t *r = vt__calloc(1, sizeof *r);
    if (!r)
        return VT_ENOMEM;
    if (pthread_rwlock_init(&r->lock, NULL) != 0) {
        vt__free(r);
        return VT_ENOMEM;
    }
    atomic_init(&r->self_metrics, 1);
    *out = r;
    return 0;
}

void vt_registry_destroy(vt_registry_t *r) {
    if (!r)
        return;
    struct vt_family *f = r->head;
    while (f) {
        struct vt_family *next = f->next;
        atomic_store_explicit(&f->reg, NULL, memory_order_relaxed);
        vt_family_destroy(f);
        f = next;
    }
    struct vt_collector *c = r->collectors;
    while (c) {
        struct vt_collector *next = c->next;
        if (c->release)
            c->release(c->user_data);
        for (size_t i = 0; i < c->nnames; i++)
            vt__free(c->names[i]);
        vt__free(c->names);
        vt__free(c);
        c = next;
    }
    pthread_rwlock_destroy(&r->lock);
    vt__free(r);
}

static vt_registry_t *default_reg;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static void make_default(void) {
    vt_registry_create(&default_reg);
}

vt_registry_t *vt_registry_default(void) {
    pthread_once(&default_once, make_default);
    return default_reg;
}

void vt_registry_set_self_metrics(vt_registry_t *r, int enabled) {
    if (r)
        atomic_store(&r->self_metrics, enabled != 0);
}

size_t vt__sample_names(vt_type_t type, const char *name, char out[][256]) {
    static const char *const suffixes[][6] = {
        [VT_COUNTER] = {"", "_total", "_created", NULL},
        [VT_GAUGE] = {"", NULL},
        [VT_HISTOGRAM] = {"", "_bucket", "_sum", "_count", "_created", NULL},
        [VT_SUMMARY] = {"", "_sum", "_count", "_created", NULL},
        [VT_INFO] = {"", "_info", NULL},
        [VT_UNTYPED] = {"", NULL},
    };
    size_t n = 0;
    for (; suffixes[type][n]; n++) {
        size_t a = strlen(name), b = strlen(suffixes[type][n]);
        if (a + b >= 256)
            a = 255 - b;
        memcpy(out[n], name, a);
        memcpy(out[n] + a, suffixes[type][n], b + 1);
    }
    return n;
}

/* Does a name set collide with a registered family or the self-metrics?
 * The self-metric names stay reserved while self-metrics are off, so that
 * turning them back on never duplicates a family. Registry lock held. */
static int taken_by_family_or_self(vt_registry_t *r, char names[][256], size_t n) {
    for (struct vt_family *f = r->head; f; f = f->next) {
        char other[6][256];
        size_t m = vt__sample_names(f->type, f->name, other);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++)
                if (strcmp(names[i], other[j]) == 0)
                    return 1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; self_names[j]; j++)
            if (strcmp(names[i], self_names[j]) == 0)
                return 1;
    return 0;
}

/* ... or with a name a collector declared. */
static int taken(vt_registry_t *r, char names[][256], size_t n) {
    if (taken_by_family_or_self(r, names, n))
        return 1;
    for (struct vt_collector *c = r->collectors; c; c = c->next)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < c->nnames; j++)
                if (strcmp(names[i], c->names[j]) == 0)
                    return 1;
    return 0;
}

int vt_registry_register(vt_registry_t *r, vt_family_t *f) {
    if (!r || !f)
        return VT_EINVAL;
    struct vt_registry *expected = NULL;
    if (!atomic_compare_exchange_strong(&f->reg, &expected, r))
        return VT_EBUSY;
    char names[6][256];
    size_t n = vt__sample_names(f->type, f->name, names);
    pthread_rwlock_wrlock(&r->lock);
    if (taken(r, names, n)) {
        pthread_rwlock_unlock(&r->lock);
        atomic_store(&f->reg, NULL);
        return VT_EDUPLICATE;
    }
    f->next = NULL;
    if (r->tail)
        r->tail->next = f;
    else
        r->head = f;
    r->tail = f;
    pthread_rwlock_unlock(&r->lock);
    return 0;
}

int vt_registry_unregister(vt_registry_t *r, vt_family_t *f) {
    if (!r || !f)
        return VT_EINVAL;
    pthread_rwlock_wrlock(&r->lock);
    struct vt_family *prev = NULL;
    for (struct vt_family *x = r->head; x; prev = x, x = x->next) {
        if (x != f)
            continue;
        if (prev)
            prev->next = x->next;
        else
            r->head = x->next;
        if (r->tail == x)
            r->tail = prev;
        x->next = NULL;
        /* Keep the registry's error totals monotonic. */
        atomic_fetch_add(&r->removed_errors[0], atomic_load(&x->err_negative));
        atomic_fetch_add(&r->removed_errors[1], atomic_load(&x->err_nan));
        atomic_fetch_add(&r->removed_errors[2], atomic_load(&x->err_callback));
        atomic_store(&x->reg, NULL);
        pthread_rwlock_unlock(&r->lock);
        return 0;
    }
    pthread_rwlock_unlock(&r->lock);
    return VT_ENOTFOUND;
}

int vt_registry_add_collector(vt_registry_t *r, const char *const *names, vt_collect_fn fn,
                              void *ud, void (*release)(void *), vt_collector_t **out) {
    if (!r || !fn)
        return VT_EINVAL;
    size_t n = 0;
    while (names && names[n])
        n++;
    for (size_t i = 0; i < n; i++)
        if (!vt__valid_metric_name(names[i]))
            return VT_ENAME;
    struct vt_collector *c = vt__calloc(1, sizeof *c);
    if (!c)
        return VT_ENOMEM;
    c->fn = fn;
    c->user_data = ud;
    c->release = release;
    c->names = vt__calloc(n ? n : 1, sizeof(char *));
    if (!c->names) {
        vt__free(c);
        return VT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(c->names[i] = vt__strdup(names[i]))) {
            for (size_t j = 0; j < i; j++)
                vt__free(c->names[j]);
            vt__free(c->names);
            vt__free(c);
            return VT_ENOMEM;
        }
    }
    c->nnames = n;
    pthread_rwlock_wrlock(&r->lock);
    for (size_t i = 0; i < n; i++) {
        char one[1][256];
        size_t len = strlen(names[i]);
        memcpy(one[0], names[i], len < 255 ? len + 1 : 255);
        one[0][255] = '\0';
        if (taken(r, one, 1)) {
            pthread_rwlock_unlock(&r->lock);
            for (size_t j = 0; j < n; j++)
                vt__free(c->names[j]);
            vt__free(c->names);
            vt__free(c);
            return VT_EDUPLICATE;
        }
    }
    struct vt_collector **pp = &r->collectors;
    while (*pp)
        pp = &(*pp)->next;
    *pp = c;
    pthread_rwlock_unlock(&r->lock);
    if (out)
        *out = c;
    return 0;
}

int vt_registry_remove_collector(vt_registry_t *r, vt_collector_t *c) {
    if (!r || !c)
        return VT_EINVAL;
    pthread_rwlock_wrlock(&r->lock);
    for (struct vt_collector **pp = &r->collectors; *pp; pp = &(*pp)->next) {
        if (*pp != c)
            continue;
        *pp = c->next;
        pthread_rwlock_unlock(&r->lock);
        if (c->release)
            c->release(c->user_data);
        for (size_t i = 0; i < c->nnames; i++)
            vt__free(c->names[i]);
        vt__free(c->names);
        vt__free(c);
        return 0;
    }
    pthread_rwlock_unlock(&r->lock);
    return VT_ENOTFOUND;
}

/* Sample names collector families have written in one scrape. */
struct vt__scrape_names {
    char (*v)[256];
    size_t n, cap;
};

int vt__registry_claim(vt_registry_t *r, const struct vt_collector *self,
                       struct vt__scrape_names *seen, vt_type_t type, const char *name) {
    char names[6][256];
    size_t n = vt__sample_names(type, name, names);
    if (taken_by_family_or_self(r, names, n))
        return 1;
    for (struct vt_collector *c = r->collectors; c; c = c->next)
        if (c != self)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < c->nnames; j++)
                    if (strcmp(names[i], c->names[j]) == 0)
                        return 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < seen->n; j++)
            if (strcmp(names[i], seen->v[j]) == 0)
                return 1;
    if (seen->n + n > seen->cap) {
        size_t cap = seen->cap ? seen->cap * 2 : 32;
        while (cap < seen->n + n)
            cap *= 2;
        char(*v)[256] = vt__realloc(seen->v, cap * sizeof *v);
        if (!v)
            return 1; /* without memory to remember it, leave the family out */
        seen->v = v;
        seen->cap = cap;
    }
    memcpy(seen->v + seen->n, names, n * sizeof names[0]);
    seen->n += n;
    return 0;
}

void vt__registry_count_collector_error(vt_registry_t *r) {
    if (r)
        atomic_fetch_add_explicit(&r->err_collector, 1, memory_order_relaxed);
}

/* The registry's own metrics, written after everything else. */
static int visit_self(vt_registry_t *r, vt__target_t *t) {
    uint64_t neg = atomic_load(&r->removed_errors[0]), nan = atomic_load(&r->removed_errors[1]),
             cb = atomic_load(&r->removed_errors[2]);
    size_t overflowed = 0;
    for (struct vt_family *f = r->head; f; f = f->next) {
        neg += atomic_load_explicit(&f->err_negative, memory_order_relaxed);
        nan += atomic_load_explicit(&f->err_nan, memory_order_relaxed);
        cb += atomic_load_explicit(&f->err_callback, memory_order_relaxed);
        overflowed += atomic_load_explicit(&f->overflowed, memory_order_relaxed) != 0;
    }
    static const char *const kinds[] = {"kind=\"callback_value\"", "kind=\"collector\"",
                                        "kind=\"nan_value\"", "kind=\"negative_counter_add\""};
    uint64_t vals[4] = {cb, atomic_load(&r->err_collector), nan, neg};
    vt__series_view_t sv[4];
    memset(sv, 0, sizeof sv);
    for (int i = 0; i < 4; i++) {
        sv[i].labels = kinds[i];
        sv[i].labels_len = strlen(kinds[i]);
        sv[i].value = (double)vals[i];
        sv[i].created = NAN;
    }
    vt__family_view_t fv = {.type = VT_COUNTER,
                            .name = "vitals_errors",
                            .help = "Values the vitals library refused, by kind."};
    int rc = t->family(t, &fv, sv, 4);
    if (rc)
        return rc;
    if (!overflowed)
        return 0;
    vt__series_view_t *ov = vt__calloc(overflowed, sizeof *ov);
    char **lab = vt__calloc(overflowed, sizeof(char *));
    size_t k = 0;
    if (ov && lab) {
        for (struct vt_family *f = r->head; f && k < overflowed; f = f->next) {
            uint64_t n = atomic_load_explicit(&f->overflowed, memory_order_relaxed);
            if (!n)
                continue;
            size_t len = strlen(f->name) + 16;
            if (!(lab[k] = vt__malloc(len)))
                break;
            /* Metric names need no escaping. */
            size_t l = (size_t)snprintf(lab[k], len, "metric=\"%s%s\"", f->name,
                                        f->type == VT_COUNTER ? "_total" : "");
            ov[k].labels = lab[k];
            ov[k].labels_len = l < len ? l : len - 1;
            ov[k].value = (double)n;
            ov[k].created = NAN;
            k++;
        }
        vt__family_view_t ofv = {.type = VT_COUNTER,
                                 .name = "vitals_series_overflow",
                                 .help =
                                     "Label sets bound past a family's series limit, by metric."};
        rc = k < overflowed ? VT_ENOMEM : t->family(t, &ofv, ov, k); /* k short: no memory */
    } else
        rc = VT_ENOMEM;
    for (size_t i = 0; lab && i < k; i++)
        vt__free(lab[i]);
    vt__free(lab);
    vt__free(ov);
    return rc;
}

int vt__registry_visit(vt_registry_t *r, vt__target_t *t) {
    pthread_rwlock_rdlock(&r->lock);
    int rc = 0;
    for (struct vt_family *f = r->head; f && !rc; f = f->next)
        rc = vt__visit_family(f, t);
    struct vt__scrape_names seen = {0};
    for (struct vt_collector *c = r->collectors; c && !rc; c = c->next)
        rc = vt__run_collector(c->fn, c->user_data, t, r, c, &seen);
    vt__free(seen.v);
    if (!rc && atomic_load(&r->self_metrics))
        rc = visit_self(r, t);
    pthread_rwlock_unlock(&r->lock);
    return rc;
}
