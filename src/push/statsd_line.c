/* statsd_line.c - formatting StatsD lines: key sanitizing, numbers, tags.
 *
 * Pure functions on caller buffers; they never allocate, so the caller's
 * thread pays only for the bytes it writes.
 *
 * Key rules follow what etsy statsd does to a key on arrival, so that a key
 * the client sanitized is left unchanged by the daemon: a run of ASCII
 * whitespace becomes one "_", "/" becomes "-", and any byte outside
 * [A-Za-z0-9_.;=-] is removed. That removes ":", "|", "@" and "#", which
 * would otherwise split the line.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "push_internal.h"

/* 0 drop, 1 keep, 2 whitespace, 3 slash */
static const unsigned char key_class[256] = {
    ['\t'] = 2, ['\n'] = 2, ['\v'] = 2, ['\f'] = 2, ['\r'] = 2, [' '] = 2, ['/'] = 3, ['_'] = 1,
    ['.'] = 1,  [';'] = 1,  ['='] = 1,  ['-'] = 1,  ['0'] = 1,  ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1,  ['5'] = 1,  ['6'] = 1,  ['7'] = 1,  ['8'] = 1,  ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1,  ['D'] = 1,  ['E'] = 1,  ['F'] = 1,  ['G'] = 1,  ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1,  ['L'] = 1,  ['M'] = 1,  ['N'] = 1,  ['O'] = 1,  ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1,  ['T'] = 1,  ['U'] = 1,  ['V'] = 1,  ['W'] = 1,  ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1,  ['b'] = 1,  ['c'] = 1,  ['d'] = 1,  ['e'] = 1,  ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1,  ['j'] = 1,  ['k'] = 1,  ['l'] = 1,  ['m'] = 1,  ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1,  ['r'] = 1,  ['s'] = 1,  ['t'] = 1,  ['u'] = 1,  ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1,  ['z'] = 1,
};

size_t vt__statsd_sanitize(char *dst, size_t cap, const char *src) {
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)src;
    while (*s) {
        unsigned char k = key_class[*s];
        char out;
        if (VT__PUSH_LIKELY(k == 1))
            out = (char)*s++;
        else if (k == 2) {
            while (key_class[*s] == 2)
                s++;
            out = '_';
        } else if (k == 3) {
            s++;
            out = '-';
        } else {
            s++;
            continue;
        }
        if (VT__PUSH_UNLIKELY(n == cap))
            return (size_t)-1;
        dst[n++] = out;
    }
    return n;
}

size_t vt__statsd_i64(int64_t v, char *buf) {
    char tmp[24];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

size_t vt__statsd_num(double v, char *buf) {
    /* Integers up to 2^53 print as integers: faster, and what daemons expect. */
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return vt__statsd_i64((int64_t)v, buf);
    /* Up to three decimals (milliseconds with microseconds): when k / 1000 is
     * exactly v, the decimal text of k / 1000 reads back as v, and no shorter
     * text can (doubles this small are far closer together than 0.001). */
    if (fabs(v) < 1e12) {
        double scaled = v * 1000;
        if (scaled == floor(scaled) && (double)(int64_t)scaled / 1000.0 == v) {
            int64_t k = (int64_t)scaled;
            uint64_t a = k < 0 ? (uint64_t)0 - (uint64_t)k : (uint64_t)k;
            size_t n = 0;
            if (k < 0)
                buf[n++] = '-';
            n += vt__statsd_i64((int64_t)(a / 1000), buf + n);
            unsigned frac = (unsigned)(a % 1000);
            buf[n++] = '.';
            buf[n++] = (char)('0' + frac / 100);
            if (frac % 100) {
                buf[n++] = (char)('0' + frac / 10 % 10);
                if (frac % 10)
                    buf[n++] = (char)('0' + frac % 10);
            }
            buf[n] = '\0';
            return n;
        }
    }
    return vt_format_double(v, buf);
}

int vt__statsd_tag_ok(const char *t) {
    if (!t || !*t)
        return 0;
    for (; *t; t++)
        if (*t == '|' || *t == ',' || *t == '#' || *t == '\n' || *t == '\r')
            return 0;
    return 1;
}

/* Copy len bytes if they fit; the length checks keep every write in bounds. */
#define PUT(src, len)                                                                              \
    do {                                                                                           \
        size_t put_len = (len);                                                                    \
        if (put_len > cap - n)                                                                     \
            return (size_t)-1;                                                                     \
        memcpy(out + n, (src), put_len);                                                           \
        n += put_len;                                                                              \
    } while (0)

size_t vt__statsd_line(const vt__statsd_parts_t *p, char *out, size_t cap) {
    size_t n = 0;
    PUT(p->prefix, p->prefix_len);
    size_t k = vt__statsd_sanitize(out + n, cap - n, p->key);
    if (k == (size_t)-1)
        return (size_t)-1;
    if (k == 0)
        return 0;
    n += k;
    PUT(":", 1);
    PUT(p->value, p->value_len);
    PUT("|", 1);
    PUT(p->type, strlen(p->type));
    if (p->rate < 1) {
        char rb[VT_DOUBLE_BUFSZ];
        PUT("|@", 2);
        PUT(rb, vt_format_double(p->rate, rb));
    }
    int open = 0;
    if (p->tags_len) {
        PUT("|#", 2);
        PUT(p->tags, p->tags_len);
        open = 1;
    }
    for (const char *const *t = p->call_tags; t && *t; t++) {
        PUT(open ? "," : "|#", open ? 1u : 2u);
        PUT(*t, strlen(*t));
        open = 1;
    }
    return n;
}
