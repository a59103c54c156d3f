/* segment.c - Graphite-safe path segments: metric names and label values.
 *
 * A Graphite path is dot-separated, so a segment keeps only [A-Za-z0-9_-];
 * every other byte (".", ":", spaces, each byte of a multi-byte UTF-8
 * character) becomes "_". The StatsD mirror and the Graphite bridge both name
 * series this way, which keeps one registry's paths the same in both.
 *
 * SPDX-License-Identifier: MIT
 */
#include "push_internal.h"

size_t vt__segment(char *dst, size_t cap, const char *src) {
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)src; *s; s++) {
        unsigned char ch = *s;
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (n == cap)
            return (size_t)-1;
        dst[n++] = keep ? (char)ch : '_';
    }
    return n;
}
