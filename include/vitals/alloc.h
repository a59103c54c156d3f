/* vitals/alloc.h - replacing the allocator the library uses.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_ALLOC_H
#define VITALS_ALLOC_H

#include <stddef.h>

#include "vitals/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
    /* Optional (may be NULL: malloc_fn then memset). A real calloc lets large
     * zeroed blocks, such as a thread's page table, stay untouched until used. */
    void *(*calloc_fn)(size_t count, size_t size);
} vt_allocator_t;

/* vt_set_allocator - use these functions for every allocation the library
 * makes from now on; NULL restores the C library's.
 * Returns 0 or VT_EINVAL.
 * Thread-safety: call before any other vitals call, or while no other thread
 * uses the library; memory must be freed by the allocator that made it.
 * malloc_fn, realloc_fn and free_fn must be set; calloc_fn may be NULL.
 * Since: 0.1.0 */
VT_EXTERN int vt_set_allocator(const vt_allocator_t *allocator);

#ifdef __cplusplus
}
#endif
#endif
