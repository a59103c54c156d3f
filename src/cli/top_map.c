/* top_map.c - a hash map from byte strings to indexes, for the series and routes of `vitals top`.
 *
 * Open addressing with linear probing over a power-of-two table kept at most
 * half full; keys are copied back to back into one buffer and compared in
 * full, so a collision costs time, never a wrong match. The hash (a
 * multiply-and-shift mix over 8-byte words, from a per-process seed) is
 * stored beside each slot. Not thread-safe: each map belongs to the main
 * thread of the command.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/top.h"

struct vt__top_slot {
    uint64_t hash; /* 0: empty */
    size_t key;    /* offset of the key in keys */
    size_t len;
    size_t value;
};

static uint64_t seed(void) {
    static uint64_t s;
    if (!s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)0xcbf29ce484222325ULL ^ ((uint64_t)ts.tv_nsec << 16) ^
            (uint64_t)(unsigned)getpid();
    }
    return s;
}

/* Eight bytes at a time: a multiply and a shift per word, then the tail. */
static uint64_t hash_of(const char *key, size_t len) {
    uint64_t h = seed() ^ ((uint64_t)len * 0x9e3779b97f4a7c15ULL);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    if (i < len) {
        memcpy(&tail, key + i, len - i);
    }
    h = (h ^ tail) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return h ? h : 1;
}

static struct vt__top_slot *find(const vt__top_map_t *m, const char *key, size_t len, uint64_t h) {
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct vt__top_slot *s = &m->slots[i];
        if (s->hash == 0 || (s->hash == h && s->len == len &&
                             (len == 0 || memcmp(m->keys + s->key, key, len) == 0))) {
            return s;
        }
    }
}

static int grow(vt__top_map_t *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct vt__top_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) {
        return VT_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        struct vt__top_slot *s = &m->slots[i];
        if (s->hash) {
            size_t j = (size_t)s->hash & (cap - 1);
            while (slots[j].hash) {
                j = (j + 1) & (cap - 1);
            }
            slots[j] = *s;
        }
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int vt__top_map_put(vt__top_map_t *m, const char *key, size_t len, size_t value, size_t *out_value,
                    int *out_found) {
    if ((m->count + 1) * 2 > m->cap && grow(m) != 0) {
        return VT_ENOMEM;
    }
    uint64_t h = hash_of(key, len);
    struct vt__top_slot *s = find(m, key, len, h);
    if (s->hash) {
        *out_value = s->value;
        if (out_found) {
            *out_found = 1;
        }
        return 0;
    }
    if (!m->keys || m->keys_len + len > m->keys_cap) {
        size_t cap = m->keys_cap ? m->keys_cap : 4096;
        while (cap < m->keys_len + len) {
            cap *= 2;
        }
        char *keys = realloc(m->keys, cap);
        if (!keys) {
            return VT_ENOMEM;
        }
        m->keys = keys;
        m->keys_cap = cap;
    }
    if (len) {
        memcpy(m->keys + m->keys_len, key, len);
    }
    s->hash = h;
    s->key = m->keys_len;
    s->len = len;
    s->value = value;
    m->keys_len += len;
    m->count++;
    *out_value = value;
    if (out_found) {
        *out_found = 0;
    }
    return 0;
}

int vt__top_map_get(const vt__top_map_t *m, const char *key, size_t len, size_t *out_value) {
    if (m->count == 0) {
        return 0;
    }
    const struct vt__top_slot *s = find(m, key, len, hash_of(key, len));
    if (!s->hash) {
        return 0;
    }
    *out_value = s->value;
    return 1;
}

void vt__top_map_free(vt__top_map_t *m) {
    free(m->slots);
    free(m->keys);
    memset(m, 0, sizeof *m);
}
