/* str.c - growable NUL-terminated strings and small allocation helpers.
 *
 * Invariant: when data is not NULL, data[len] is NUL and len < cap. Once an
 * append fails, failed stays set and the text stays what it was, so builders
 * can append freely and check vt__str_ok() once.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int grow(vt__str_t *s, size_t extra) {
    if (s->failed) {
        return VT_ENOMEM;
    }
    if (extra >= (size_t)-1 - s->len - 1) {
        s->failed = 1;
        return VT_ENOMEM;
    }
    size_t need = s->len + extra + 1;
    if (need <= s->cap) {
        return 0;
    }
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need) {
        cap = cap > (size_t)-1 / 2 ? need : cap * 2;
    }
    char *p = realloc(s->data, cap);
    if (!p) {
        s->failed = 1;
        return VT_ENOMEM;
    }
    s->data = p;
    s->cap = cap;
    return 0;
}

int vt__str_add(vt__str_t *s, const char *p, size_t n) {
    int rc = grow(s, n);
    if (rc) {
        return rc;
    }
    if (n) {
        memcpy(s->data + s->len, p, n);
    }
    s->len += n;
    s->data[s->len] = '\0';
    return 0;
}

int vt__str_puts(vt__str_t *s, const char *p) {
    return vt__str_add(s, p, strlen(p));
}

int vt__str_vprintf(vt__str_t *s, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        s->failed = 1;
        return VT_EINVAL;
    }
    int rc = grow(s, (size_t)n);
    if (rc) {
        return rc;
    }
    vsnprintf(s->data + s->len, (size_t)n + 1, fmt, ap);
    s->len += (size_t)n;
    return 0;
}

int vt__str_printf(vt__str_t *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vt__str_vprintf(s, fmt, ap);
    va_end(ap);
    return rc;
}

const char *vt__str_get(const vt__str_t *s) {
    return s->data ? s->data : "";
}

int vt__str_ok(const vt__str_t *s) {
    return s->failed ? VT_ENOMEM : 0;
}

void vt__str_free(vt__str_t *s) {
    free(s->data);
    memset(s, 0, sizeof *s);
}

char *vt__str_take(vt__str_t *s) {
    char *p = s->data;
    if (!p) {
        p = calloc(1, 1);
    }
    memset(s, 0, sizeof *s);
    return p;
}

char *vt__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) {
        memcpy(p, s, n);
    }
    return p;
}

char *vt__aprintf(const char *fmt, ...) {
    vt__str_t s = {0};
    va_list ap;
    va_start(ap, fmt);
    int rc = vt__str_vprintf(&s, fmt, ap);
    va_end(ap);
    if (rc) {
        vt__str_free(&s);
        return NULL;
    }
    return vt__str_take(&s);
}
