/* pushgateway_path.c - the path of a Pushgateway group: /metrics/job/<job>
 * followed by /<label>/<value> for each grouping label.
 *
 * A value that holds "/" (which no escaping gets through the Pushgateway's
 * router) or is empty is written as "<label>@base64/<base64url of value>",
 * the empty one as "=" as the Pushgateway documents; any other value is
 * percent-encoded outside the URL's unreserved characters.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"

int vt__utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        unsigned min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            c = (c << 6) | (p[i] & 0x3Fu);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

int vt__label_name_ok(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/* A growing string; ok drops to 0 after a failed allocation. */
typedef struct sb {
    char *s;
    size_t len, cap;
    int ok;
} sb_t;

static void put(sb_t *b, const char *s, size_t n) {
    if (!b->ok)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->ok = 0;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void puts_(sb_t *b, const char *s) {
    put(b, s, strlen(s));
}

size_t vt__base64url(const unsigned char *in, size_t n, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* "/<name>/<value>" or "/<name>@base64/<encoded>". */
static void segment(sb_t *b, const char *name, const char *value) {
    size_t n = strlen(value);
    puts_(b, "/");
    puts_(b, name);
    if (n == 0 || strchr(value, '/')) {
        puts_(b, "@base64/");
        if (n == 0) {
            puts_(b, "=");
            return;
        }
        char *enc = malloc((n + 2) / 3 * 4 + 1);
        if (!enc) {
            b->ok = 0;
            return;
        }
        put(b, enc, vt__base64url((const unsigned char *)value, n, enc));
        free(enc);
        return;
    }
    puts_(b, "/");
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        unsigned c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            char ch = (char)c;
            put(b, &ch, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            put(b, esc, 3);
        }
    }
}

int vt__pushgateway_url(const char *base, const char *job, const char *const *grouping,
                        char **out_url) {
    if (!base || !job || !*job)
        return VT_EINVAL;
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return VT_EINVAL;
    if (!vt__utf8_valid(job))
        return VT_EUTF8;
    size_t n = 0;
    while (grouping && grouping[n])
        n++;
    if (n % 2)
        return VT_EINVAL;
    for (size_t i = 0; i < n; i += 2) {
        if (!vt__label_name_ok(grouping[i]) || strcmp(grouping[i], "job") == 0)
            return VT_ELABELNAME;
        if (!vt__utf8_valid(grouping[i + 1]))
            return VT_EUTF8;
        for (size_t k = 0; k < i; k += 2)
            if (strcmp(grouping[k], grouping[i]) == 0)
                return VT_EDUPLABEL;
    }
    sb_t b = {NULL, 0, 0, 1};
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    put(&b, base, bl);
    puts_(&b, "/metrics");
    segment(&b, "job", job);
    for (size_t i = 0; i < n; i += 2)
        segment(&b, grouping[i], grouping[i + 1]);
    if (!b.ok) {
        free(b.s);
        return VT_ENOMEM;
    }
    *out_url = b.s;
    return 0;
}
