/* arena.c - bump allocation for a parsed document, freed all at once.
 *
 * Blocks grow geometrically from 16 KiB up to 1 MiB, and a request larger
 * than that gets a block of its own, so the number of mallocs stays
 * logarithmic in small documents and linear in 1 MiB steps in large ones.
 * Not thread-safe: one arena belongs to one parse.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "parse/internal.h"

#define ARENA_MIN ((size_t)16 * 1024)
#define ARENA_MAX ((size_t)1024 * 1024)
#define HDR ((sizeof(vt__arena_block_t) + 7u) & ~(size_t)7u)

static vt__arena_block_t *grow(vt__arena_t *a, size_t need) {
    size_t cap = a->head ? a->head->cap * 2 : ARENA_MIN;
    if (cap > ARENA_MAX) {
        cap = ARENA_MAX;
    }
    if (cap < need) {
        cap = need;
    }
    if (cap > SIZE_MAX - HDR) {
        return NULL;
    }
    vt__arena_block_t *b = malloc(HDR + cap);
    if (!b) {
        return NULL;
    }
    b->prev = a->head;
    b->cap = cap;
    b->used = 0;
    a->head = b;
    return b;
}

void *vt__arena_alloc(vt__arena_t *a, size_t size) {
    vt__arena_block_t *b = a->head;
    size_t off = b ? (b->used + 7u) & ~(size_t)7u : 0;
    if (!b || off > b->cap || b->cap - off < size) {
        b = grow(a, size);
        if (!b) {
            return NULL;
        }
        off = 0;
    }
    b->used = off + size;
    return (char *)b + HDR + off;
}

char *vt__arena_bytes(vt__arena_t *a, size_t size) {
    vt__arena_block_t *b = a->head;
    if (!b || b->cap - b->used < size) {
        b = grow(a, size);
        if (!b) {
            return NULL;
        }
    }
    char *p = (char *)b + HDR + b->used;
    b->used += size;
    return p;
}

void vt__arena_shrink_last(vt__arena_t *a, char *last, size_t old_size, size_t new_size) {
    vt__arena_block_t *b = a->head;
    if (b && new_size <= old_size && last + old_size == (char *)b + HDR + b->used) {
        b->used -= old_size - new_size;
    }
}

char *vt__arena_strndup(vt__arena_t *a, const char *s, size_t n) {
    if (n == SIZE_MAX) {
        return NULL;
    }
    char *p = vt__arena_bytes(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void vt__arena_free(vt__arena_t *a) {
    vt__arena_block_t *b = a->head;
    while (b) {
        vt__arena_block_t *prev = b->prev;
        free(b);
        b = prev;
    }
    a->head = NULL;
}

void *vt__arena_array_grow(void *data, size_t size) {
    if (size > SIZE_MAX - HDR) {
        return NULL;
    }
    vt__arena_block_t *b = data ? (vt__arena_block_t *)((char *)data - HDR) : NULL;
    vt__arena_block_t *nb = realloc(b, HDR + size);
    if (!nb) {
        return NULL;
    }
    nb->prev = NULL;
    nb->cap = size;
    nb->used = size;
    return (char *)nb + HDR;
}

void vt__arena_array_free(void *data) {
    if (data) {
        free((char *)data - HDR);
    }
}

void vt__arena_adopt(vt__arena_t *a, void *data) {
    vt__arena_block_t *b = (vt__arena_block_t *)((char *)data - HDR);
    b->used = b->cap; /* full: bump allocation never lands in it */
    if (a->head) {
        b->prev = a->head->prev;
        a->head->prev = b;
    } else {
        b->prev = NULL;
        a->head = b;
    }
}
