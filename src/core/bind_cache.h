/* bind_cache.h - the per-thread cache of recent label-value binds; its hit path is inline.
 *
 * See bind_cache.c for what makes a hit safe and exact. A thread only ever
 * touches its own cache, so nothing here locks.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CORE_BIND_CACHE_H
#define VT_CORE_BIND_CACHE_H

#include <string.h>

#include "internal.h"

#define VT__BC_LABELS 4 /* families with 1..4 labels use the cache */
#define VT__BC_SETS 64u /* a power of two */
#define VT__BC_WAYS 2u

typedef struct vt__bc_entry {
    const struct vt_family *fam;  /* NULL when empty */
    uint64_t gen;                 /* fam->gen when the entry was made */
    vt__series_t *s;              /* unescaped, held exactly these values then */
    const char *v[VT__BC_LABELS]; /* the value pointers */
    uint32_t n[VT__BC_LABELS];    /* the values' lengths */
    uint32_t off[VT__BC_LABELS];  /* where each value starts in s->text */
} vt__bc_entry_t;

/* A thread whose binds mostly miss (values in fresh buffers, or more label
 * sets than the cache holds) stops using the cache for a while, so that it
 * pays little more than the table lookup. */
#define VT__BC_WINDOW 256u /* entries made between hit-rate checks */
#define VT__BC_REST 8192u  /* table lookups that skip the cache after a poor window */

typedef struct vt__bind_cache {
    vt__bc_entry_t e[VT__BC_SETS][VT__BC_WAYS]; /* way 0 is the more recent */
    uint32_t puts;                              /* entries made since the last check */
    uint32_t rest;                              /* table lookups left that skip the cache */
} vt__bind_cache_t;

/* The calling thread's cache; NULL until its first entry, and while the
 * thread skips it (bind_cache.c keeps it aside then). */
extern __thread vt__bind_cache_t *vt__tls_bind_cache __attribute__((tls_model("initial-exec")));
/* Its hits since the last check (apart, so a hit costs one instruction). */
extern __thread uint32_t vt__tls_bc_hits __attribute__((tls_model("initial-exec")));

/* Are the n bytes at a and b equal? Neither is read past its n bytes. */
static inline int vt__bc_same(const char *a, const char *b, size_t n) {
    if (n <= 8) {
        if (n >= 4) {
            uint32_t x, y, z, w;
            memcpy(&x, a, 4);
            memcpy(&y, b, 4);
            memcpy(&z, a + n - 4, 4);
            memcpy(&w, b + n - 4, 4);
            return ((x ^ y) | (z ^ w)) == 0;
        }
        return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
    }
    if (n <= 16) {
        uint64_t x, y, z, w;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&z, a + n - 8, 8);
        memcpy(&w, b + n - 8, 8);
        return ((x ^ y) | (z ^ w)) == 0;
    }
    return memcmp(a, b, n) == 0;
}

/* Does entry e answer these values of f (nl of them, none NULL)? */
static inline int vt__bc_hit(const vt__bc_entry_t *e, const struct vt_family *f,
                             const char *const *values, size_t nl) {
    if (e->fam != f || e->gen != f->gen || e->v[0] != values[0])
        return 0;
    const vt__series_t *s = e->s;
    for (size_t i = 0; i < nl; i++) {
        if (e->v[i] != values[i])
            return 0;
        size_t n = strlen(values[i]);
        if (n != e->n[i] || !vt__bc_same(s->text + e->off[i], values[i], n))
            return 0;
    }
    return atomic_load_explicit(&s->deleted, memory_order_relaxed) == 0;
}

/* The set for f and these value pointers, or -1 when fewer than nl values are
 * given or more follow (a wrong label count, which the caller reports). */
static inline long vt__bc_set(const struct vt_family *f, const char *const *values, size_t nl) {
    uint64_t x = (uint64_t)(uintptr_t)f;
    for (size_t i = 0; i < nl; i++) {
        if (VT__UNLIKELY(!values[i]))
            return -1;
        x = (x ^ (uint64_t)(uintptr_t)values[i]) * 0x9E3779B97F4A7C15u;
    }
    if (VT__UNLIKELY(values[nl] != NULL))
        return -1;
    return (long)(x >> 58) & (VT__BC_SETS - 1);
}

/* The live series this thread last bound for exactly these values of f (a
 * family with bind_cached set), or NULL: then bind through the table. */
static inline vt__series_t *vt__bind_cache_get(const struct vt_family *f,
                                               const char *const *values) {
    vt__bind_cache_t *c = vt__tls_bind_cache;
    if (VT__UNLIKELY(!c))
        return NULL;
    size_t nl = f->nlabels;
    long k = vt__bc_set(f, values, nl);
    if (VT__UNLIKELY(k < 0))
        return NULL;
    vt__bc_entry_t *set = c->e[k];
    if (VT__LIKELY(vt__bc_hit(&set[0], f, values, nl))) {
        vt__tls_bc_hits++;
        return set[0].s;
    }
    if (vt__bc_hit(&set[1], f, values, nl)) {
        vt__bc_entry_t t = set[0];
        set[0] = set[1];
        set[1] = t;
        vt__tls_bc_hits++;
        return set[0].s;
    }
    return NULL;
}

/* Remember s, an unescaped live series of f (bind_cached set) that holds
 * exactly these values, whose lengths are lens[]. Out of memory, or while the
 * thread skips the cache, it does nothing. */
void vt__bind_cache_put(const struct vt_family *f, const char *const *values, vt__series_t *s,
                        const size_t *lens);

#endif
