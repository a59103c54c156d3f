/* validate.c - metric and label names, UTF-8, and label value escaping.
 *
 * All checks run when a family is created or a label set is bound, never on
 * the hot path.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "internal.h"

static int is_alpha_(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

int vt__valid_metric_name(const char *s) {
    if (!s || !*s)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    if (!is_alpha_(*p) && *p != ':')
        return 0;
    for (p++; *p; p++)
        if (!is_alpha_(*p) && !is_digit(*p) && *p != ':')
            return 0;
    return p - (const unsigned char *)s < 200; /* leaves room for suffixes */
}

int vt__valid_label_name(const char *s) {
    if (!s || !*s)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    if (!is_alpha_(*p))
        return 0;
    for (p++; *p; p++)
        if (!is_alpha_(*p) && !is_digit(*p))
            return 0;
    return p - (const unsigned char *)s < 200;
}

/* Well-formed UTF-8 as Unicode defines it: no overlongs, no surrogates, nothing
 * past U+10FFFF. NUL bytes cannot occur (the strings are C strings). */
int vt__valid_utf8(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    while (s < end && *s < 0x80) /* ASCII: the usual label value */
        s++;
    while (s < end) {
        unsigned char c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return 0;
        if ((size_t)(end - s) < len)
            return 0;
        if (s[1] < lo || s[1] > hi)
            return 0;
        for (size_t i = 2; i < len; i++)
            if (s[i] < 0x80 || s[i] > 0xBF)
                return 0;
        s += len;
    }
    return 1;
}

/* Both take a string whose byte s[n] is its NUL, so that strcspn (vectorized
 * in the C library) can skip the usual run without escapable characters. */
size_t vt__escaped_len(const char *s, size_t n) {
    size_t i = strcspn(s, "\\\"\n"), extra = 0;
    for (; i < n; i++)
        extra += (s[i] == '\\' || s[i] == '"' || s[i] == '\n');
    return n + extra;
}

char *vt__escape_label(char *d, const char *s, size_t n) {
    size_t run = strcspn(s, "\\\"\n");
    if (run > n)
        run = n;
    memcpy(d, s, run);
    d += run;
    for (size_t i = run; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == '"') {
            *d++ = '\\';
            *d++ = c;
        } else if (c == '\n') {
            *d++ = '\\';
            *d++ = 'n';
        } else
            *d++ = c;
    }
    return d;
}
