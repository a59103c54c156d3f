/* internal.h - what the files of the exposition parser share and nothing else sees.
 *
 * The arena hands out memory that lives until the whole document is freed;
 * nothing in it is freed one by one. Number and UTF-8 helpers work on byte
 * ranges that are not NUL-terminated and never read past the end given.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_PARSE_INTERNAL_H
#define VT_PARSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "parse/parse.h"

/* A chain of blocks; the newest block is the one being filled. */
typedef struct vt__arena_block {
    struct vt__arena_block *prev;
    size_t cap;  /* usable bytes after the header */
    size_t used; /* bytes handed out */
} vt__arena_block_t;

typedef struct vt__arena {
    vt__arena_block_t *head; /* newest block, or NULL */
} vt__arena_t;

/* 8-byte aligned memory for the arena's lifetime; NULL when out of memory. */
void *vt__arena_alloc(vt__arena_t *a, size_t size);
/* Unaligned bytes for strings (no padding wasted). */
char *vt__arena_bytes(vt__arena_t *a, size_t size);
/* Give back the tail of the most recent vt__arena_bytes() allocation. */
void vt__arena_shrink_last(vt__arena_t *a, char *last, size_t old_size, size_t new_size);
/* A NUL-terminated copy of s[0..n). */
char *vt__arena_strndup(vt__arena_t *a, const char *s, size_t n);
void vt__arena_free(vt__arena_t *a);
/* A growable array (data NULL at first) that an arena can take over later
 * with vt__arena_adopt(), which saves copying it; until then free it with
 * vt__arena_array_free(). Returns the new data, or NULL (data unchanged). */
void *vt__arena_array_grow(void *data, size_t size);
void vt__arena_array_free(void *data);
void vt__arena_adopt(vt__arena_t *a, void *data);

/* Number grammar shared by both formats: [sign] digits [. digits] [e [sign]
 * digits], a leading or trailing dot allowed but not both without digits;
 * [sign] inf / infinity and nan (no sign), case-insensitive. No hexadecimal,
 * no underscores, no spaces. A finite literal that overflows is rejected.
 * Returns 0 and sets *out, or -1. */
int vt__parse_double(const char *s, size_t n, double *out);
/* Only the finite forms of the grammar above (OpenMetrics timestamps). */
int vt__parse_real(const char *s, size_t n, double *out);
/* [sign] digits within int64 (text 0.0.4 timestamps). */
int vt__parse_int64(const char *s, size_t n, int64_t *out);

/* Offset of the first byte that does not start a valid UTF-8 sequence within
 * s[0..n) (overlong forms, surrogates and code points above U+10FFFF are
 * invalid), or n when all of it is valid. */
size_t vt__utf8_check(const char *s, size_t n);
/* Code points in valid UTF-8. */
size_t vt__utf8_count(const char *s, size_t n);

/* 64-bit hash of bytes, seeded so that sequences can be chained. */
uint64_t vt__hash_bytes(const void *p, size_t n, uint64_t seed);
/* A seed that differs from process to process where the platform randomizes
 * addresses, so that keys chosen to collide in one run do not in the next. */
uint64_t vt__hash_seed(void);

/* Character classes of names, one table for speed. */
extern const unsigned char vt__name_class[256];
#define VT__C_METRIC_FIRST 1u /* [a-zA-Z_:] */
#define VT__C_METRIC 2u       /* [a-zA-Z0-9_:] */
#define VT__C_LABEL_FIRST 4u  /* [a-zA-Z_] */
#define VT__C_LABEL 8u        /* [a-zA-Z0-9_] */

/* Suffix kinds of sample names relative to their family name. */
typedef enum vt__suffix {
    VT__SUF_NONE = 0,
    VT__SUF_TOTAL,
    VT__SUF_CREATED,
    VT__SUF_COUNT,
    VT__SUF_SUM,
    VT__SUF_BUCKET,
    VT__SUF_GCOUNT,
    VT__SUF_GSUM,
    VT__SUF_INFO,
    VT__SUF_OTHER
} vt__suffix_t;

/* The suffix kind of a sample name of length n given the family name length
 * fn (the sample name starts with the family name). */
vt__suffix_t vt__suffix_kind(const char *name, size_t n, size_t fn);

#endif
