/* bind_cache.c - a per-thread cache of recent label-value binds, keyed by the value pointers.
 *
 * A thread that binds the same label values again and again (usually string
 * literals or long-lived strings) finds its series here without hashing or
 * probing the family's table. An entry remembers the family, the family's
 * generation, the value pointers, and where each value sits in the series'
 * text. Invariants that make a hit safe and exact:
 * - Every entry was made from a lock-free table hit, so its series held
 *   exactly those values then; series text never changes afterwards. Only
 *   series whose text needed no escaping are cached, so each value is stored
 *   verbatim at its recorded offset.
 * - A hit compares the caller's values again (their length with strlen, then
 *   their bytes) against the series' text: the pointers only pick the entry,
 *   so a caller's buffer that now holds something else is a miss.
 * - The entry's family is only dereferenced through the caller's pointer,
 *   which the API requires to be live; the generation number, unique per
 *   family ever created, tells a new family at a reused address from the old
 *   one. A series is never freed before its family (families that free removed
 *   series, info metrics, are not cached), so the entry's series can be read.
 * - A removed series is flagged deleted before its removal returns: a hit on
 *   a deleted series is a miss, so the caller rebinds through the table and
 *   gets the live series (a new one if it was recreated).
 * - Entries that are rarely used cost a thread more than they save: when,
 *   over a window of 256 entries made, binds hit fewer times than that, the
 *   thread sets its cache aside for the next 8,192 table lookups (they then
 *   skip the cache entirely), and tries again afterwards.
 * Concurrency: the cache is the calling thread's alone; it is allocated on
 * the first entry and freed by a thread-exit destructor. Nothing here locks.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bind_cache.h"

__thread vt__bind_cache_t *vt__tls_bind_cache __attribute__((tls_model("initial-exec")));
__thread uint32_t vt__tls_bc_hits __attribute__((tls_model("initial-exec")));
/* The thread's cache while it rests (vt__tls_bind_cache is NULL then). */
static __thread vt__bind_cache_t *resting __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static void cache_free(void *p) {
    vt__tls_bind_cache = NULL;
    resting = NULL;
    vt__free(p);
}

static void make_key(void) {
    cache_key_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

void vt__bind_cache_put(const struct vt_family *f, const char *const *values, vt__series_t *s,
                        const size_t *lens) {
    vt__bind_cache_t *c = vt__tls_bind_cache;
    if (!c && resting) {
        if (--resting->rest == 0) { /* rested: use the cache again */
            vt__tls_bind_cache = resting;
            resting = NULL;
        }
        return;
    }
    if (!c) {
        pthread_once(&cache_once, make_key);
        if (!cache_key_ok || !(c = vt__calloc(1, sizeof *c)))
            return;
        if (pthread_setspecific(cache_key, c) != 0) {
            vt__free(c);
            return;
        }
        vt__tls_bind_cache = c;
    }
    if (VT__UNLIKELY(++c->puts == VT__BC_WINDOW)) {
        uint32_t hits = vt__tls_bc_hits;
        vt__tls_bc_hits = 0;
        c->puts = 0;
        if (hits < VT__BC_WINDOW) { /* under half of the binds hit: rest */
            c->rest = VT__BC_REST;
            resting = c;
            vt__tls_bind_cache = NULL;
            return;
        }
    }
    size_t nl = f->nlabels;
    long k = vt__bc_set(f, values, nl);
    if (k < 0)
        return;
    vt__bc_entry_t *set = c->e[k];
    set[1] = set[0];
    vt__bc_entry_t *e = &set[0];
    e->fam = f;
    e->gen = f->gen;
    e->s = s;
    size_t off = f->const_len;
    for (size_t i = 0; i < nl; i++) {
        off += f->prefix_lens[i];
        e->v[i] = values[i];
        e->n[i] = (uint32_t)lens[i];
        e->off[i] = (uint32_t)off;
        off += lens[i] + 1;
    }
}
