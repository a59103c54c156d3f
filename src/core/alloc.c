/* alloc.c - the one place the library allocates, so that users can replace it.
 *
 * The allocator is read without a lock: vt_set_allocator() is documented as a
 * call made before the library is used, or while no other thread uses it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *libc_malloc(size_t n) {
    return malloc(n);
}
static void *libc_realloc(void *p, size_t n) {
    return realloc(p, n);
}
static void libc_free(void *p) {
    free(p);
}
static void *libc_calloc(size_t n, size_t size) {
    return calloc(n, size);
}

static vt_allocator_t current = {libc_malloc, libc_realloc, libc_free, libc_calloc};

int vt_set_allocator(const vt_allocator_t *a) {
    if (!a) {
        current = (vt_allocator_t){libc_malloc, libc_realloc, libc_free, libc_calloc};
        return 0;
    }
    if (!a->malloc_fn || !a->realloc_fn || !a->free_fn)
        return VT_EINVAL;
    current = *a;
    return 0;
}

void *vt__malloc(size_t n) {
    return current.malloc_fn(n ? n : 1);
}

void *vt__calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size)
        return NULL;
    if (current.calloc_fn)
        return current.calloc_fn(count ? count : 1, size ? size : 1);
    size_t total = count * size;
    void *p = current.malloc_fn(total ? total : 1);
    if (p)
        memset(p, 0, total);
    return p;
}

void *vt__realloc(void *p, size_t n) {
    return current.realloc_fn(p, n ? n : 1);
}

void vt__free(void *p) {
    if (p)
        current.free_fn(p);
}

char *vt__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = vt__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
